import { Type } from "@sinclair/typebox";

const KIB = 1024;
const MIB = 1024 * KIB;

export const DEFAULT_CHUNK_BYTES = 4 * MIB;

/** The `chunkBytes` parameter shared by the tasks that read files piece by piece. */
export const ChunkBytesParam = Type.Optional(
  Type.Integer({
    minimum: 4 * KIB,
    maximum: 64 * MIB,
    default: DEFAULT_CHUNK_BYTES,
    description: "Bytes read per step; each step ends at a checkpoint.",
  }),
);
