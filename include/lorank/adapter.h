// The format-neutral LoRA adapter: what every reader produces and every writer consumes.
//
// An Adapter is a list of LoRA modules (the pair of factors B·A with their rank, α and the
// scale the format's own loader would apply), the tensors that are not LoRA factors
// (passthrough: modules_to_save, biases, DoRA magnitudes, kohya alphas, ...), the file's
// metadata and, for PEFT, its adapter_config.json. Readers detect the format from the
// content (magic bytes, tensor names), never from a file name. See docs/formats.md.
#ifndef LORANK_ADAPTER_H_
#define LORANK_ADAPTER_H_

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lorank/gguf_value.h"
#include "lorank/files.h"
#include "lorank/status.h"
#include "lorank/tensor.h"

namespace lorank {

enum class AdapterFormat {
  kPeft,   // Hugging Face PEFT: adapter_config.json + adapter_model.{safetensors,bin}
  kKohya,  // kohya-ss / LyCORIS: <name>.lora_down.weight, .lora_up.weight, .alpha
  kGguf,   // llama.cpp GGUF LoRA: <base tensor>.lora_a / .lora_b, one global alpha
  kMlx,    // Apple mlx_lm: adapters.safetensors (<module>.lora_a [in, r], .lora_b [r, out],
           // both transposed against PEFT) + adapter_config.json (lora_parameters)
};
std::string_view format_name(AdapterFormat format);  // "peft", "kohya", "gguf", "mlx"

enum class Container { kSafetensors, kPytorch, kGguf };
std::string_view container_name(Container container);  // "safetensors", "pytorch", "gguf"

enum class ModuleKind {
  kLinear,     // A r×in, B out×r
  kEmbedding,  // PEFT lora_embedding_A r×num_embeddings, lora_embedding_B dim×r (ΔW = (B·A)ᵀ)
  kConv,       // A r×in×kh×kw (flattened to r×(in·kh·kw)), B out×r×1×1
};
std::string_view module_kind_name(ModuleKind kind);  // "linear", "embedding", "conv"

// The PEFT configuration fields that decide each module's rank and scale, with PEFT's
// defaults for keys an old config lacks (r = 8, lora_alpha = 8, use_rslora = false).
struct PeftConfig {
  int r = 8;
  double lora_alpha = 8.0;
  bool use_rslora = false;
  bool use_dora = false;
  // The base layer stores W as [in, out] (GPT-2's Conv1D), so ΔW applies transposed.
  bool fan_in_fan_out = false;
  std::vector<std::pair<std::string, int>> rank_pattern;      // file order: first match wins
  std::vector<std::pair<std::string, double>> alpha_pattern;  // file order: first match wins
  std::string raw_json;  // the file as read, so writers keep every other field
};

// The fields of an mlx_lm adapter_config.json that decide the scale (docs/formats.md).
struct MlxConfig {
  int rank = 0;                 // lora_parameters.rank (the largest module rank)
  double scale = 1.0;           // lora_parameters.scale: s as mlx_lm applies it, not divided by r
  std::optional<double> alpha;  // lora_parameters.alpha: ignored by mlx_lm since 0.14.2
  bool dora = false;            // fine_tune_type "dora" (older files: use_dora true)
  std::string raw_json;         // the file as read, so writers keep every other field
};

struct LoraModule {
  // PEFT: the key prefix as in the file (base_model.model.<path>); kohya: the module name
  // (lora_unet_...); GGUF: the base tensor name (blk.0.attn_q.weight).
  std::string name;
  ModuleKind kind = ModuleKind::kLinear;
  std::size_t rank = 0;  // rows of A (= columns of B)
  std::size_t out = 0;   // rows of B
  std::size_t in = 0;    // columns of A, flattened (in·kh·kw for conv)
  double alpha = 0.0;    // the α the format's loader uses for this module
  double scale = 1.0;    // s in ΔW = s·B·A, exactly as the format's loader computes it
  std::string scale_rule;  // how `scale` was derived, e.g. "alpha/r", "alpha/sqrt(r) (rsLoRA)"
  TensorView A;          // as stored (shape, dtype, bytes)
  TensorView B;
  // DoRA's lora_magnitude_vector (PEFT). The spectrum is then of the directional update
  // s·B·A; the magnitude rescales rows of W + s·B·A at run time.
  std::optional<TensorView> magnitude;
  // kohya's 0-d `<name>.alpha` tensor, when the file has one.
  std::optional<TensorView> alpha_tensor;
  // mlx_lm: `A` views the file's lora_a, which is Aᵀ (shape [in, r]), and `B` its lora_b,
  // Bᵀ ([r, out]); rank/out/in still describe A r×in and B out×r. Numerical code must read
  // the factors through widen_factor / factor sources that honour this, never as r×in bytes.
  bool transposed = false;
};

struct Adapter {
  AdapterFormat format = AdapterFormat::kPeft;
  Container container = Container::kSafetensors;
  std::filesystem::path weights_path;
  std::optional<std::filesystem::path> config_path;  // PEFT / mlx_lm adapter_config.json, if found
  std::optional<PeftConfig> peft;                     // parsed config (PEFT only)
  std::optional<MlxConfig> mlx;                       // parsed config (mlx_lm only)
  std::optional<double> global_alpha;                 // GGUF adapter.lora.alpha, if set
  std::vector<LoraModule> modules;                    // in file order
  std::vector<TensorView> passthrough;                // every tensor not in a LoRA pair
  std::vector<TensorView> tensors;                    // every tensor, in file order
  std::map<std::string, std::string> metadata;        // safetensors __metadata__ / GGUF strings
  std::vector<GgufKv> gguf_kvs;                       // GGUF: every key-value, typed, in order
  std::vector<std::string> warnings;                  // for the user, e.g. "no config: scale 1"
  std::shared_ptr<const void> storage;                // keeps the views' bytes alive
  // Set by open_adapter: forwards to the reader's release_pages (see below).
  std::function<void(std::span<const std::byte>)> page_releaser;
};

// Hint that `view`'s bytes will not be read again soon: the whole pages of it that lie in
// the adapter's memory-mapped weights file leave the process's resident set (they are
// read from the file again if touched). Bytes owned by the heap (torch's contiguous
// copies, edited factors) are never touched. Thread-safe; a no-op when nothing is mapped.
void release_tensor_pages(const Adapter& adapter, const TensorView& view);

struct AdapterOptions {
  // α to use when the adapter carries none (PEFT or mlx_lm without adapter_config.json,
  // kohya without .alpha tensors, GGUF without adapter.lora.alpha): scale = α/r. Unset → 1.
  std::optional<double> alpha;
};

// Opens an adapter: a PEFT or mlx_lm folder, a .safetensors / .bin / .gguf file (a PEFT or
// mlx_lm weights file uses the adapter_config.json beside it). Validates pairing and shapes: every A has its
// B, ranks agree (A rows = B cols = the config's rank for that module), conv B is 1×1.
// Returns kNotFound (no such path / no weights in the folder), kCorruption (a file or
// config that lies: unpaired factors, rank disagreement, bad JSON, r <= 0, ...),
// kNotSupported (a valid file lorank does not handle). Messages name the file and tensor.
Result<Adapter> open_adapter(const std::filesystem::path& path, const AdapterOptions& options = {});

// kInvalidArgument ("refusing to write over the input …") if writing `out` could destroy
// any of the adapter's input: `out` is its weights file or config, or a folder holding
// either (the PEFT folder itself, or an ancestor that --overwrite would replace). For
// every output lorank writes next to an adapter (resized adapters, HTML reports).
Status check_not_input(const Adapter& adapter, const std::filesystem::path& out);

struct AdapterWriteOptions {
  // Replace an existing output (never the input itself), but only one that looks like
  // lorank's: for kohya/GGUF a regular file of the same format (a safetensors header, the
  // GGUF magic); for PEFT a folder holding nothing but kAdapterFolderFiles (no subfolder),
  // for mlx_lm one holding nothing but kMlxFolderFiles.
  bool overwrite = false;
  // Checks the complete hidden temp output (the folder for PEFT/mlx, else the file) before it is
  // renamed into place (lorank/files.h); `resize` verifies it there.
  BeforePublish before_publish = {};
};

// The only entries a PEFT output folder may hold for --overwrite to replace it: what lorank
// writes and what PEFT's save_pretrained writes for the weights. Not README.md (a model
// card is a person's writing), no subfolder: anything else means lorank did not write it.
inline constexpr std::string_view kAdapterFolderFiles[] = {
    "adapter_config.json", "adapter_model.safetensors", "adapter_model.bin"};
// The same for an mlx_lm output folder: what mlx_lm's load_adapters reads. Not the
// numbered training checkpoints (0000100_adapters.safetensors): lorank never writes those.
inline constexpr std::string_view kMlxFolderFiles[] = {"adapter_config.json",
                                                       "adapters.safetensors"};

// Writes `adapter` in its own format: PEFT → a folder `out` holding adapter_model.safetensors
// (+ adapter_config.json from peft->raw_json); kohya → the .safetensors file `out`; GGUF →
// the .gguf file `out`; mlx_lm → a folder `out` holding adapters.safetensors (+
// adapter_config.json from mlx->raw_json), factors in mlx_lm's transposed layout. Tensors
// keep the input's file order; each module's A, B, magnitude and alpha tensor are taken from
// the module (so edited factors replace the originals) and
// passthrough tensors are written unchanged, so reading then writing an adapter reproduces
// its weights file byte for byte. Atomic: `out` appears complete or not at all.
// kInvalidArgument if `out` exists and !overwrite, if `out` exists and does not look like
// lorank's output (see AdapterWriteOptions::overwrite; the message names what is there), or
// if check_not_input(adapter, out) fails. An error from options.before_publish is returned
// as is (paths in it spelled as `out`), and nothing appears at or changes at `out`.
Status write_adapter(const Adapter& adapter, const std::filesystem::path& out,
                     const AdapterWriteOptions& options = {});

// PEFT's pattern lookup: the value of the first key (in order) whose regex `(.*\.)?(KEY)$`
// matches `module_path` (the name without "base_model.model."). kInvalidArgument if a key
// is not a valid regular expression.
Result<std::optional<double>> match_peft_pattern(
    const std::vector<std::pair<std::string, double>>& pattern, const std::string& module_path);

}  // namespace lorank

#endif  // LORANK_ADAPTER_H_
