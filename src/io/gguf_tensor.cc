// ggml tensor types (block sizes from ggml's type table), DType mapping, widening to double
// (quantised types through gguf_dequant.cc), the LoRA adapter metadata and write-side
// tensor records.
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "io/gguf_dequant.h"
#include "lorank/gguf.h"

namespace lorank {
namespace {

// Indexed by ggml type id; block_elements == 0 marks ids ggml removed (4, 5, 31..33,
// 36..38). Sizes were measured with sizeof() on ggml-common.h's block structs.
constexpr std::array<GgmlTypeTraits, 43> kGgmlTypes = {{
    {"F32", 1, 4},        {"F16", 1, 2},       {"Q4_0", 32, 18},     {"Q4_1", 32, 20},
    {"", 0, 0},           {"", 0, 0},          {"Q5_0", 32, 22},     {"Q5_1", 32, 24},
    {"Q8_0", 32, 34},     {"Q8_1", 32, 36},    {"Q2_K", 256, 84},    {"Q3_K", 256, 110},
    {"Q4_K", 256, 144},   {"Q5_K", 256, 176},  {"Q6_K", 256, 210},   {"Q8_K", 256, 292},
    {"IQ2_XXS", 256, 66}, {"IQ2_XS", 256, 74}, {"IQ3_XXS", 256, 98}, {"IQ1_S", 256, 50},
    {"IQ4_NL", 32, 18},   {"IQ3_S", 256, 110}, {"IQ2_S", 256, 82},   {"IQ4_XS", 256, 136},
    {"I8", 1, 1},         {"I16", 1, 2},       {"I32", 1, 4},        {"I64", 1, 8},
    {"F64", 1, 8},        {"IQ1_M", 256, 56},  {"BF16", 1, 2},       {"", 0, 0},
    {"", 0, 0},           {"", 0, 0},          {"TQ1_0", 256, 54},   {"TQ2_0", 256, 66},
    {"", 0, 0},           {"", 0, 0},          {"", 0, 0},           {"MXFP4", 32, 17},
    {"NVFP4", 64, 36},    {"Q1_0", 128, 18},   {"Q2_0", 64, 18},
}};

}  // namespace

std::optional<GgmlTypeTraits> ggml_type_traits(uint32_t id) {
  if (id >= kGgmlTypes.size() || kGgmlTypes[id].block_elements == 0) return std::nullopt;
  return kGgmlTypes[id];
}

std::optional<uint32_t> ggml_type_for(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return kGgmlF32;
    case DType::kF16:
      return kGgmlF16;
    case DType::kBF16:
      return kGgmlBF16;
    case DType::kF64:
      return kGgmlF64;
    case DType::kI8:
      return kGgmlI8;
    case DType::kI16:
      return kGgmlI16;
    case DType::kI32:
      return kGgmlI32;
    case DType::kI64:
      return kGgmlI64;
    default:
      return std::nullopt;
  }
}

std::optional<DType> dtype_for_ggml_type(uint32_t id) {
  switch (id) {
    case kGgmlF32:
      return DType::kF32;
    case kGgmlF16:
      return DType::kF16;
    case kGgmlBF16:
      return DType::kBF16;
    case kGgmlF64:
      return DType::kF64;
    case kGgmlI8:
      return DType::kI8;
    case kGgmlI16:
      return DType::kI16;
    case kGgmlI32:
      return DType::kI32;
    case kGgmlI64:
      return DType::kI64;
    default:
      return std::nullopt;
  }
}

Status gguf_tensor_to_double(const GgufTensorInfo& info, std::span<double> out) {
  const int64_t numel = info.shape.numel();
  if (out.size() != static_cast<uint64_t>(numel)) {
    return invalid_argument("tensor '{}': output has {} elements, the tensor {}", info.name,
                            out.size(), numel);
  }
  // The float types widen straight to double: through float32, F64 would round.
  if (const auto dtype = info.dtype(); dtype && is_convertible_float(*dtype)) {
    return to_double(TensorView{info.name, *dtype, info.shape, info.data}, out);
  }
  const io::DequantKernel kernel = io::dequant_kernel(info.ggml_type);
  if (kernel == nullptr) return io::not_dequantizable(info);
  // The quantised types: the float32 dequantization (the one definition of their values) in
  // chunks of whole blocks through a small buffer, each value widened exactly.
  const GgmlTypeTraits traits = *ggml_type_traits(info.ggml_type);
  if (out.size() % traits.block_elements != 0 ||
      out.size() / traits.block_elements * traits.block_bytes != info.data.size()) {
    return invalid_argument("tensor '{}': {} data bytes do not match type {} and {} elements",
                            info.name, info.data.size(), traits.name, out.size());
  }
  constexpr std::size_t kChunk = 8192;  // floats; a multiple of every block size (≤ 256)
  std::array<float, kChunk> buffer;
  const auto* src = reinterpret_cast<const uint8_t*>(info.data.data());
  for (std::size_t done = 0; done < out.size();) {
    const std::size_t n = std::min(kChunk, out.size() - done);
    const std::size_t blocks = n / traits.block_elements;
    kernel(src, blocks, buffer.data());
    src += blocks * traits.block_bytes;
    for (std::size_t i = 0; i < n; ++i) out[done + i] = buffer[i];
    done += n;
  }
  return Status();
}

Result<GgufLoraMetadata> gguf_lora_metadata(const GgufFile& file) {
  auto string_key = [&](std::string_view key) -> Result<std::optional<std::string_view>> {
    const GgufValue* v = file.find_kv(key);
    if (v == nullptr) return std::optional<std::string_view>();
    if (!v->string_value()) {
      return corruption("gguf file '{}': {} is a {}, not a string", file.path().string(), key,
                        gguf_type_name(v->type()));
    }
    return std::optional<std::string_view>(*v->string_value());
  };
  auto require = [&](std::string_view key, std::string_view want) -> Status {
    LORANK_ASSIGN_OR_RETURN(auto got, string_key(key));
    if (got == want) return Status();
    return not_supported("gguf file '{}': not a LoRA adapter: {} is {}, expected \"{}\"",
                            file.path().string(), key,
                            got ? fmt::format("\"{}\"", *got) : std::string("missing"), want);
  };
  LORANK_RETURN_IF_ERROR(require("general.type", "adapter"));
  LORANK_RETURN_IF_ERROR(require("adapter.type", "lora"));
  GgufLoraMetadata out;
  LORANK_ASSIGN_OR_RETURN(auto arch, string_key("general.architecture"));
  if (arch) out.architecture = std::string(*arch);
  if (const GgufValue* alpha = file.find_kv("adapter.lora.alpha")) {
    if (!alpha->get<float>()) {
      return corruption("gguf file '{}': adapter.lora.alpha is a {}, not f32", file.path().string(),
                        gguf_type_name(alpha->type()));
    }
    if (*alpha->get<float>() != 0.0f) out.alpha = alpha->get<float>();
  }
  return out;
}

Result<GgufWriteTensor> GgufWriteTensor::from_view(const TensorView& view) {
  const auto type = ggml_type_for(view.dtype);
  if (!type) {
    return not_supported("tensor '{}': dtype {} has no ggml type", view.name,
                            dtype_name(view.dtype));
  }
  GgufWriteTensor out{view.name, *type, {}, view.data};
  for (std::size_t i = view.shape.rank(); i-- > 0;) {
    const int64_t d = view.shape.dims[i];
    if (d < 0) {
      return invalid_data("tensor '{}': negative dim in shape {}", view.name,
                              view.shape.to_string());
    }
    out.ne.push_back(static_cast<uint64_t>(d));
  }
  return out;
}

GgufWriteTensor GgufWriteTensor::from_info(const GgufTensorInfo& info) {
  return GgufWriteTensor{info.name, info.ggml_type, info.ne, info.data};
}

}  // namespace lorank
