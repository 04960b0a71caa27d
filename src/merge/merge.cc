// The merge driver: streams every output tensor into the base's own layout and verifies
// the hidden output against the formula before it is published.
#include "lorank/merge.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <nlohmann/json.hpp>

#include "io/atomic_dir.h"
#include "io/file.h"
#include "io/json_text.h"
#include "io/replaceable.h"
#include "lorank/gguf.h"
#include "lorank/parallel.h"
#include "lorank/safetensors.h"
#include "merge/ordered_pipeline.h"
#include "merge/plan.h"

namespace lorank {

namespace fs = std::filesystem;
using merge::MergePlan;
using merge::TensorJob;

namespace {

// Merged values are produced in chunks of about this many doubles (one unit of work handed
// to a worker, and one write)...
constexpr std::size_t kBlockValues = std::size_t{1} << 19;  // 4 MiB
// ...each computed in pieces of about this many bytes, so that the passes over a piece
// (widen, update, range check, narrow) find it in the core's L2 (1 MiB or more).
constexpr std::size_t kPieceBytes = std::size_t{512} << 10;
// Rows of each merged tensor checked when the output is too big to check whole.
constexpr std::size_t kSampledRows = 8;

double largest_finite(DType dtype) {
  switch (dtype) {
    case DType::kF16: return 65504.0;
    case DType::kBF16: return 3.3895313892515355e38;
    case DType::kF32: return std::numeric_limits<float>::max();
    default: return std::numeric_limits<double>::max();
  }
}

Status encode(std::span<const double> v, DType dtype, std::span<std::byte> out) {
  return from_double(v, dtype, out);
}
Status encode(std::span<const float> v, DType dtype, std::span<std::byte> out) {
  return from_float(v, dtype, out);
}

// The merged rows [row_begin, row_begin + rows) of `job`, encoded in job.dtype into `out`,
// a cache-sized piece at a time, in the job's arithmetic T.
template <typename T>
Status compute_rows_as(const Checkpoint& base, const TensorJob& job, std::size_t row_begin,
                       std::size_t rows, std::vector<T>& values, std::span<std::byte> out) {
  const std::size_t piece_rows = std::max<std::size_t>(1, kPieceBytes / sizeof(T) / std::max<std::size_t>(job.cols, 1));
  const std::size_t row_bytes = job.cols * dtype_size(job.dtype);
  const uint64_t per_row = job.cols / job.base->row_length();  // storage rows per matrix row
  // Exact in T: the largest finite F16, BF16 and F32 values are floats.
  const T limit = static_cast<T>(largest_finite(job.dtype));
  for (std::size_t p0 = 0; p0 < rows; p0 += piece_rows) {
    const std::size_t first = row_begin + p0, n = std::min(piece_rows, rows - p0);
    values.resize(n * job.cols);
    LORANK_RETURN_IF_ERROR(base.read_rows(*job.base, first * per_row, std::span<T>(values)));
    if constexpr (std::is_same_v<T, float>) {
      for (const auto& u : job.float_updates) merge::add_update<float>(u, first, n, values);
    } else {
      for (const auto& u : job.updates) merge::add_update<double>(u, first, n, values);
      if (!job.dora_magnitude.empty()) merge::apply_dora(job.dora_magnitude, first, n, job.cols, values);
    }
    bool fits = true;  // one branch-free (vectorised) pass; the loop below only names the value
    for (const T x : values) fits &= std::abs(x) <= limit;
    for (std::size_t i = 0; !fits && i < values.size(); ++i) {
      if (!(std::abs(values[i]) <= limit)) {
        return invalid_data("tensor '{}': merged value {} at row {} does not fit {}{}", job.name,
                            values[i], first + i / job.cols, dtype_name(job.dtype),
                            std::isfinite(values[i]) ? " (use --dtype F32 or BF16)" : "");
      }
    }
    LORANK_RETURN_IF_ERROR(encode(values, job.dtype, out.subspan(p0 * row_bytes, n * row_bytes)));
  }
  return Status();
}

// Per-worker scratch for both arithmetics.
struct Scratch {
  std::vector<double> wide;
  std::vector<float> single;
};

Status compute_rows(const Checkpoint& base, const TensorJob& job, std::size_t row_begin,
                    std::size_t rows, Scratch& scratch, std::span<std::byte> out) {
  if (!job.float_updates.empty()) return compute_rows_as(base, job, row_begin, rows, scratch.single, out);
  return compute_rows_as(base, job, row_begin, rows, scratch.wide, out);
}

// An adapter tensor carried whole, in the output dtype.
Status encode_whole(const TensorView& t, DType dtype, std::vector<std::byte>& out) {
  std::vector<double> values(static_cast<std::size_t>(t.numel()));
  LORANK_RETURN_IF_ERROR(to_double(t, values));
  out.resize(values.size() * dtype_size(dtype));
  return from_double(values, dtype, out);
}

class Writer {
 public:
  Writer(const Checkpoint& base, const MergePlan& plan, const MergeOptions& options)
      : base_(base), plan_(plan), options_(options) {}

  // Streams job `i` into `sink`.
  Status stream(std::size_t i, const ByteSink& sink) {
    const TensorJob& job = plan_.jobs[i];
    Status s;
    switch (job.kind) {
      case TensorJob::Kind::kCopy:
        s = sink(job.base->data);
        break;
      case TensorJob::Kind::kReplace:
      case TensorJob::Kind::kAdd: {
        std::vector<std::byte> bytes;
        s = encode_whole(*job.source, job.dtype, bytes);
        if (s.ok()) s = sink(bytes);
        break;
      }
      case TensorJob::Kind::kMerge:
        s = stream_merged(job, sink);
        break;
    }
    if (job.base != nullptr) base_.release_pages(*job.base);
    if (s.ok() && options_.progress) options_.progress(++done_, plan_.jobs.size());
    return s;
  }

 private:
  // Each worker computes chunks of about kBlockValues values into a ring of buffers while
  // the calling thread hands finished chunks to the sink in order (the write, often
  // waiting for the disk): both cores compute while the writer copies.
  Status stream_merged(const TensorJob& job, const ByteSink& sink) {
    const std::size_t chunk_rows = std::max<std::size_t>(1, kBlockValues / std::max<std::size_t>(job.cols, 1));
    const std::size_t workers = worker_count(options_.threads, 1 << 20);
    const std::size_t row_bytes = job.cols * dtype_size(job.dtype);
    const std::size_t chunks = (job.rows + chunk_rows - 1) / chunk_rows;
    values_.resize(workers + 1);  // run_ordered_pipeline's slots
    auto rows_in = [&](std::size_t c) { return std::min(chunk_rows, job.rows - c * chunk_rows); };
    return merge::run_ordered_pipeline(
        chunks, workers,
        [&](std::size_t w, std::size_t c, std::vector<std::byte>& bytes) {
          bytes.resize(rows_in(c) * row_bytes);
          return compute_rows(base_, job, c * chunk_rows, rows_in(c), values_[w], bytes);
        },
        [&](std::size_t, const std::vector<std::byte>& bytes) { return sink(bytes); });
  }

  const Checkpoint& base_;
  const MergePlan& plan_;
  const MergeOptions& options_;
  std::size_t done_ = 0;
  std::vector<Scratch> values_;  // one per pipeline slot
};

// Re-reads the complete hidden output and compares it with what the plan says it holds.
class Verifier {
 public:
  Verifier(const Checkpoint& base, const MergePlan& plan, bool all)
      : base_(base), plan_(plan), all_(all) {}

  Status check(const fs::path& temp, MergeReport& report) {
    LORANK_ASSIGN_OR_RETURN(const Checkpoint out, Checkpoint::open(temp));
    auto fail = [&](const std::string& problem) {
      return internal_error("merged output failed verification: {}", problem);
    };
    if (out.tensors().size() != plan_.jobs.size()) {
      return fail(fmt::format("{} tensors, expected {}", out.tensors().size(), plan_.jobs.size()));
    }
    Scratch values;
    std::vector<std::byte> want;
    for (const TensorJob& job : plan_.jobs) {
      const CheckpointTensor* t = out.find(job.name);
      if (t == nullptr) return fail(fmt::format("tensor '{}' is missing", job.name));
      if (t->shape != job.shape) return fail(fmt::format("tensor '{}' has shape {}", job.name, t->shape.to_string()));
      if (job.kind == TensorJob::Kind::kCopy) {
        if (!same_bytes(job.base->data, t->data)) return fail(fmt::format("tensor '{}' differs from the base", job.name));
      } else if (job.kind == TensorJob::Kind::kMerge) {
        const std::size_t row_bytes = job.cols * dtype_size(job.dtype);
        for (std::size_t row : rows_to_check(job.rows)) {
          want.resize(row_bytes);
          LORANK_RETURN_IF_ERROR(compute_rows(base_, job, row, 1, values, want));
          if (std::memcmp(want.data(), t->data.data() + row * row_bytes, row_bytes) != 0) {
            return fail(fmt::format("tensor '{}' row {} differs from the formula", job.name, row));
          }
          ++report.verified_rows;
        }
      } else {
        LORANK_RETURN_IF_ERROR(encode_whole(*job.source, job.dtype, want));
        if (want.size() != t->data.size() || std::memcmp(want.data(), t->data.data(), want.size()) != 0) {
          return fail(fmt::format("tensor '{}' differs from the adapter's", job.name));
        }
      }
      out.release_pages(*t);
      if (job.base != nullptr) base_.release_pages(*job.base);
    }
    report.verified_all = all_;
    return Status();
  }

 private:
  std::vector<std::size_t> rows_to_check(std::size_t rows) const {
    std::vector<std::size_t> out;
    if (all_ || rows <= kSampledRows) {
      for (std::size_t i = 0; i < rows; ++i) out.push_back(i);
      return out;
    }
    for (std::size_t k = 0; k < kSampledRows; ++k) out.push_back(k * (rows - 1) / (kSampledRows - 1));
    return out;
  }
  // Whole when checking all; else the first, middle and last 64 KiB.
  bool same_bytes(std::span<const std::byte> a, std::span<const std::byte> b) const {
    if (a.size() != b.size()) return false;
    constexpr std::size_t kPiece = 64 << 10;
    if (all_ || a.size() <= 3 * kPiece) return std::memcmp(a.data(), b.data(), a.size()) == 0;
    for (std::size_t at : {std::size_t{0}, a.size() / 2, a.size() - kPiece}) {
      if (std::memcmp(a.data() + at, b.data() + at, kPiece) != 0) return false;
    }
    return true;
  }

  const Checkpoint& base_;
  const MergePlan& plan_;
  bool all_;
};

std::vector<TensorView> safetensors_specs(const MergePlan& plan, std::span<const std::size_t> jobs) {
  std::vector<TensorView> specs;
  for (std::size_t i : jobs) {
    const TensorJob& job = plan.jobs[i];
    specs.push_back(TensorView{job.name, job.dtype, job.shape, {}});
  }
  return specs;
}

// The files of a folder base that travel with the weights (config.json, tokenizer, ...):
// regular files that are not weights or the index, whatever format they are in.
std::vector<fs::path> side_files(const Checkpoint& base) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(base.files().front().parent_path(), ec), end; !ec && it != end;
       it.increment(ec)) {
    const fs::path& p = it->path();
    const std::string ext = p.extension().string();
    if (!it->is_regular_file(ec) || p.filename() == kSafetensorsIndexName) continue;
    if (ext == ".safetensors" || ext == ".bin" || ext == ".gguf" || ext == ".pt" || ext == ".pth") continue;
    if (p.filename().string().starts_with(".")) continue;
    out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string index_text(const Checkpoint& base, const MergePlan& plan,
                       const std::vector<std::string>& shard_names) {
  nlohmann::ordered_json meta = nlohmann::ordered_json::object();
  bool too_deep = false;
  if (!base.index_metadata_json().empty()) {
    meta = io::parse_json_capped<nlohmann::ordered_json>(base.index_metadata_json(), too_deep);
  }
  uint64_t total = 0;
  for (const TensorJob& job : plan.jobs) total += job.bytes();
  meta["total_size"] = total;
  nlohmann::json map = nlohmann::json::object();  // sorted by name, as transformers writes it
  for (const TensorJob& job : plan.jobs) map[job.name] = shard_names[job.shard];
  nlohmann::ordered_json index = nlohmann::ordered_json::object();
  index["metadata"] = meta;
  index["weight_map"] = map;
  return io::dump_json(index) + "\n";
}

}  // namespace

Result<MergeReport> merge_adapters(const Checkpoint& base, std::span<const Adapter> adapters,
                                   const fs::path& out, const MergeOptions& options) {
  if (!std::isfinite(options.scale)) return invalid_argument("--scale must be a finite number");
  if (!options.adapter_scales.empty() && options.adapter_scales.size() != adapters.size()) {
    return invalid_argument("--scales gives {} scale(s) for {} adapter(s)",
                            options.adapter_scales.size(), adapters.size());
  }
  for (double s : options.adapter_scales) {
    if (!std::isfinite(s)) return invalid_argument("--scales: {} is not a finite number", s);
  }
  if (options.dtype && !(*options.dtype == DType::kF32 || *options.dtype == DType::kF16 ||
                         *options.dtype == DType::kBF16)) {
    return invalid_argument("--dtype must be F32, F16 or BF16");
  }
  std::vector<fs::path> inputs(base.files().begin(), base.files().end());
  inputs.push_back(base.path());
  for (const Adapter& a : adapters) {
    inputs.push_back(a.weights_path);
    if (a.config_path) inputs.push_back(*a.config_path);
  }
  LORANK_RETURN_IF_ERROR(io::check_not_input(inputs, out));
  LORANK_ASSIGN_OR_RETURN(MergePlan plan, merge::plan_merge(base, adapters, options));

  MergeReport report;
  report.output = out;
  report.format = base.format();
  report.merged = plan.merged;
  report.replaced = plan.replaced;
  report.added = plan.added;
  report.copied = plan.copied;
  report.warnings = plan.warnings;
  for (const TensorJob& job : plan.jobs) {
    report.bytes_written += job.bytes();
    report.computed_in_float += job.float_updates.empty() ? 0 : 1;
  }
  const bool verify_all = report.bytes_written <= options.verify_all_up_to_bytes;
  Writer writer(base, plan, options);
  Verifier verifier(base, plan, verify_all);
  std::vector<std::size_t> all(plan.jobs.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;

  if (base.format() == CheckpointFormat::kGguf) {
    if (options.overwrite) LORANK_RETURN_IF_ERROR(io::check_replaceable_file(out, io::looks_like_gguf, "a GGUF file"));
    std::vector<GgufWriteTensor> tensors;
    for (const TensorJob& job : plan.jobs) {
      std::vector<uint64_t> ne(job.shape.dims.rbegin(), job.shape.dims.rend());
      const uint32_t type = job.kind == TensorJob::Kind::kCopy ? job.base->ggml_type
                                                               : *ggml_type_for(job.dtype);
      tensors.push_back(GgufWriteTensor{job.name, type, std::move(ne), {}});
    }
    GgufWriteOptions w{options.overwrite,
                       [&](const fs::path& temp) { return verifier.check(temp, report); },
                       [&](std::size_t i, const ByteSink& sink) { return writer.stream(i, sink); }};
    LORANK_RETURN_IF_ERROR(write_gguf(out, base.gguf_kvs(), tensors, w));
    return report;
  }
  std::error_code ec;
  const bool folder = base.format() == CheckpointFormat::kShardedSafetensors ||
                      fs::is_directory(base.path(), ec);
  std::map<std::string, std::string> metadata = base.metadata();
  if (!folder) {
    if (options.overwrite) {
      LORANK_RETURN_IF_ERROR(io::check_replaceable_file(out, io::looks_like_safetensors, "a safetensors file"));
    }
    if (base.format() == CheckpointFormat::kPytorch) {
      report.warnings.push_back("the PyTorch base is written as safetensors");
      metadata["format"] = "pt";
    }
    const std::vector<TensorView> specs = safetensors_specs(plan, all);
    SafetensorsWriteOptions w{options.overwrite,
                              [&](const fs::path& temp) { return verifier.check(temp, report); },
                              [&](std::size_t i, const ByteSink& sink) { return writer.stream(i, sink); }};
    LORANK_RETURN_IF_ERROR(write_safetensors(out, specs, metadata, w));
    return report;
  }
  // A folder: each shard keeps its name and its tensors (added ones go to the last shard).
  std::vector<std::string> shard_names;
  for (const fs::path& f : base.files()) shard_names.push_back(f.filename().string());
  if (base.format() == CheckpointFormat::kPytorch) shard_names = {"model.safetensors"};
  std::vector<std::vector<std::size_t>> shard_jobs(shard_names.size());
  for (std::size_t i = 0; i < plan.jobs.size(); ++i) {
    TensorJob& job = plan.jobs[i];
    if (job.kind == TensorJob::Kind::kAdd) job.shard = shard_names.size() - 1;
    shard_jobs[job.shard].push_back(i);
  }
  const std::vector<fs::path> sides = side_files(base);
  if (options.overwrite) {
    std::vector<std::string> allowed = shard_names;
    allowed.emplace_back(kSafetensorsIndexName);
    for (const fs::path& p : sides) allowed.push_back(p.filename().string());
    std::vector<std::string_view> views(allowed.begin(), allowed.end());
    LORANK_RETURN_IF_ERROR(io::check_replaceable_folder(out, views));
  }
  LORANK_ASSIGN_OR_RETURN(io::AtomicDirectory dir, io::AtomicDirectory::create(out, options.overwrite));
  for (std::size_t s = 0; s < shard_names.size(); ++s) {
    const std::vector<TensorView> specs = safetensors_specs(plan, shard_jobs[s]);
    SafetensorsWriteOptions w{false, {}, [&](std::size_t i, const ByteSink& sink) {
                                return writer.stream(shard_jobs[s][i], sink);
                              }};
    LORANK_RETURN_IF_ERROR(write_safetensors(dir.temp_path() / shard_names[s], specs,
                                             s == 0 ? metadata : std::map<std::string, std::string>{}, w));
  }
  if (base.format() == CheckpointFormat::kShardedSafetensors) {
    LORANK_RETURN_IF_ERROR(write_text_file(dir.temp_path() / std::string(kSafetensorsIndexName),
                                           index_text(base, plan, shard_names), false));
  }
  for (const fs::path& p : sides) {
    if (!fs::copy_file(p, dir.temp_path() / p.filename(), ec)) {
      return io_error("cannot copy '{}' into the output: {}", p.string(), ec.message());
    }
  }
  if (options.dtype) {
    report.warnings.push_back("config.json's torch_dtype is copied unchanged; merged tensors are " +
                              std::string(dtype_name(*options.dtype)));
  }
  const fs::path checked = base.format() == CheckpointFormat::kShardedSafetensors
                               ? fs::path(kSafetensorsIndexName) : fs::path(shard_names.front());
  LORANK_RETURN_IF_ERROR(dir.commit([&](const fs::path& temp) {
    return verifier.check(temp / checked, report);
  }));
  return report;
}

}  // namespace lorank
