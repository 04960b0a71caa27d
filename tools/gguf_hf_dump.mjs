// Dumps a GGUF file as parsed by @huggingface/gguf (an independent parser), in the text
// format of tests/io/gguf_hf_export_test.cc, so the two can be diffed.
// Usage: node gguf_hf_dump.mjs FILE.gguf   (run from a folder where @huggingface/gguf is
// installed; tools/check_gguf_with_hf.sh does that).
import { gguf, GGUFValueType } from "@huggingface/gguf";
import path from "node:path";

const TYPE_NAMES = {
  [GGUFValueType.UINT8]: "u8", [GGUFValueType.INT8]: "i8", [GGUFValueType.UINT16]: "u16",
  [GGUFValueType.INT16]: "i16", [GGUFValueType.UINT32]: "u32", [GGUFValueType.INT32]: "i32",
  [GGUFValueType.FLOAT32]: "f32", [GGUFValueType.BOOL]: "bool", [GGUFValueType.STRING]: "string",
  [GGUFValueType.ARRAY]: "array", [GGUFValueType.UINT64]: "u64", [GGUFValueType.INT64]: "i64",
  [GGUFValueType.FLOAT64]: "f64",
};

// JS numbers as the hex bits of their double, bigints in decimal, strings as UTF-8 hex.
function render(v) {
  if (Array.isArray(v)) return "[" + v.map(render).join(",") + "]";
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "string") return "s:" + Buffer.from(v, "utf8").toString("hex");
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v, true);
  return "0x" + dv.getBigUint64(0, true).toString(16).padStart(16, "0");
}

const file = path.resolve(process.argv[2]);
const { typedMetadata, tensorInfos, tensorDataOffset } = await gguf(file, {
  allowLocalFile: true,
  typedMetadata: true,
});
const lines = [
  `version ${typedMetadata.version.value}`,
  `tensor_count ${typedMetadata.tensor_count.value}`,
  `kv_count ${typedMetadata.kv_count.value}`,
];
for (const [key, { value, type, subType }] of Object.entries(typedMetadata)) {
  if (key === "version" || key === "tensor_count" || key === "kv_count") continue;
  const typeName = type === GGUFValueType.ARRAY ? `array<${TYPE_NAMES[subType]}>` : TYPE_NAMES[type];
  lines.push(`kv ${key} ${typeName} ${render(value)}`);
}
for (const t of tensorInfos) {
  lines.push(`tensor ${t.name} n_dims=${t.n_dims} ne=[${t.shape.join(",")}] type=${t.dtype} offset=${t.offset}`);
}
lines.push(`data_offset ${tensorDataOffset}`);
process.stdout.write(lines.join("\n") + "\n");
