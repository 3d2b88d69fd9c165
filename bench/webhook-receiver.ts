// A webhook receiver in its own process for bench/observers.ts, so its work does not land on the
// engine's thread: answers 204 to every POST, and GET /stats with how many it took and when.
let received = 0;
let lastAt = 0;
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    if (request.method === "GET") return Response.json({ received, lastAt });
    await request.arrayBuffer();
    received++;
    lastAt = Date.now();
    return new Response(null, { status: 204 });
  },
});
console.log(server.port);
