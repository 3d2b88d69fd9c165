// The dashboard's code runs in a browser, the rest of kiln on Bun: these add the DOM's types to
// the one program `tsc` checks. The async-iterable part keeps ReadableStream async-iterable for
// the Bun code that relies on it once the DOM's declaration of it is merged in.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="dom.asynciterable" />
