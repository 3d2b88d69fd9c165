import { html } from "htm/preact";
import { formatTime } from "../format.ts";
import type { StatsJson } from "../types.ts";

const WIDTH = 300;
const HEIGHT = 60;

type Bucket = StatsJson["throughput"][number];

function Bar({
  bucket,
  index,
  width,
  scale,
}: {
  bucket: Bucket;
  index: number;
  width: number;
  scale: number;
}) {
  const x = index * width;
  const parts: Array<[string, number]> = [
    ["finished", bucket.finished],
    ["failed", bucket.failed],
    ["stopped", bucket.stopped],
  ];
  let top = HEIGHT;
  const total = bucket.finished + bucket.failed + bucket.stopped;
  const label = `${formatTime(bucket.start)}: ${bucket.finished} finished, ${bucket.failed} failed, ${bucket.stopped} stopped`;
  return html`<g>
    <title>${label}</title>
    <rect class="bar-slot" x=${x} y="0" width=${width} height=${HEIGHT} />
    ${
      total > 0 &&
      parts.map(([kind, count]) => {
        const height = count * scale;
        top -= height;
        return count > 0
          ? html`<rect class=${`bar bar-${kind}`} x=${x + 1} y=${top} width=${Math.max(1, width - 2)} height=${height} />`
          : null;
      })
    }
  </g>`;
}

/** Tasks that ended per minute, stacked by outcome; an SVG drawn here, no chart library. */
export function ThroughputChart({ buckets }: { buckets: StatsJson["throughput"] }) {
  const peak = Math.max(0, ...buckets.map((b) => b.finished + b.failed + b.stopped));
  const max = Math.max(1, peak);
  const total = buckets.reduce((sum, b) => sum + b.finished + b.failed + b.stopped, 0);
  const width = WIDTH / Math.max(1, buckets.length);
  const summary = `${total} tasks ended in the last ${buckets.length} minutes; at most ${peak} in one minute`;
  return html`<figure class="chart">
    <figcaption>Ended per minute <span class="muted">(peak ${peak})</span></figcaption>
    <svg viewBox=${`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" role="img" aria-label=${summary}>
      ${buckets.map(
        (bucket, index) =>
          html`<${Bar} key=${bucket.start} bucket=${bucket} index=${index} width=${width} scale=${HEIGHT / max} />`,
      )}
    </svg>
    <div class="chart-axis" aria-hidden="true">
      <span>−${buckets.length} min</span><span>now</span>
    </div>
  </figure>`;
}
