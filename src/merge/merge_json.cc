// `lorank merge --json` and lorank.merge() in Python: one JSON writer for both.
#include <nlohmann/json.hpp>

#include "lorank/merge.h"

namespace lorank {

std::string merge_json(const MergeReport& r) {
  nlohmann::ordered_json j;
  j["output"] = r.output.string();
  j["format"] = std::string(checkpoint_format_name(r.format));
  j["merged"] = r.merged;
  j["replaced"] = r.replaced;
  j["added"] = r.added;
  j["copied"] = r.copied;
  j["bytes_written"] = r.bytes_written;
  j["computed_in_float"] = r.computed_in_float;
  j["verified_all"] = r.verified_all;
  j["verified_rows"] = r.verified_rows;
  j["warnings"] = r.warnings;
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace lorank
