// Reading and writing JSON whose content comes from files: a nesting cap checked while
// parsing, descriptions instead of dumps in messages, and output that cannot throw or grow
// without bound. nlohmann parses iteratively but dump() and the destructor of a parsed
// value recurse once per level, so depth must be refused before a value is built.
#ifndef LORANK_IO_JSON_TEXT_H_
#define LORANK_IO_JSON_TEXT_H_

#include <fmt/format.h>

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/text.h"

namespace lorank::io {

// The deepest nesting of arrays and objects lorank reads. PEFT configs and safetensors
// headers need 3; 64 leaves room for unknown fields and keeps every recursive walk short.
inline constexpr int kMaxJsonDepth = 64;

// Part of a nlohmann parser callback: discards (without building) any array or object
// that would sit deeper than kMaxJsonDepth and remembers that it did. nlohmann's `depth`
// is the number of containers around the one being opened (0 for the top level).
class JsonDepthGuard {
 public:
  bool keep(int depth, nlohmann::detail::parse_event_t event) {
    using Event = nlohmann::detail::parse_event_t;
    if ((event == Event::object_start || event == Event::array_start) && depth >= kMaxJsonDepth) {
      too_deep_ = true;
      return false;
    }
    return true;
  }
  bool too_deep() const { return too_deep_; }

 private:
  bool too_deep_ = false;
};

// The one-line message for a document the guard refused.
inline std::string json_too_deep_message() {
  return fmt::format("JSON nested deeper than {} levels", kMaxJsonDepth);
}

// Parses `text` without exceptions and with the depth cap. Returns a discarded value for
// invalid JSON; sets `too_deep` (and returns a discarded value) past the cap.
template <typename Json>
Json parse_json_capped(std::string_view text, bool& too_deep) {
  JsonDepthGuard guard;
  Json j = Json::parse(
      text.begin(), text.end(),
      [&guard](int depth, nlohmann::detail::parse_event_t event, Json&) {
        return guard.keep(depth, event);
      },
      /*allow_exceptions=*/false);
  too_deep = guard.too_deep();
  return too_deep ? Json(Json::value_t::discarded) : j;
}

// nlohmann keeps the last of two equal keys silently; this parser callback sees every key
// before that happens (a duplicate tensor name could otherwise hide a second tensor's
// bytes). It also records the order of the top-level keys, which std::map objects lose.
class DuplicateKeyFinder {
 public:
  struct Duplicate {
    bool top_level = false;  // a key of the document's own object
    std::string top_key;     // the top-level key whose value holds the nested duplicate
    std::string key;
  };
  template <typename Json>
  bool on_event(nlohmann::detail::parse_event_t event, const Json& parsed) {
    using Event = nlohmann::detail::parse_event_t;
    if (event == Event::object_start) {
      open_.emplace_back();
    } else if (event == Event::object_end) {
      if (!open_.empty()) open_.pop_back();
    } else if (event == Event::key && !open_.empty()) {
      const auto& key = parsed.template get_ref<const std::string&>();
      if (open_.size() == 1) top_key_ = key;
      const bool inserted = open_.back().insert(key).second;
      if (inserted && open_.size() == 1) top_order_.emplace(key, top_order_.size());
      if (!inserted && !duplicate_) duplicate_ = Duplicate{open_.size() == 1, top_key_, key};
    }
    return true;  // keep every value; errors are reported after parsing
  }
  const std::optional<Duplicate>& duplicate() const { return duplicate_; }
  // The position of a top-level key in the document (its count if absent).
  std::size_t position(const std::string& key) const {
    const auto it = top_order_.find(key);
    return it == top_order_.end() ? top_order_.size() : it->second;
  }

 private:
  std::vector<std::unordered_set<std::string>> open_;
  std::string top_key_;
  std::unordered_map<std::string, std::size_t> top_order_;
  std::optional<Duplicate> duplicate_;
};

// Longest string shown in full by describe_json.
inline constexpr std::size_t kMaxDescribedString = 32;

// A short, escaped description of a value read from a file, for error messages: small
// scalars as themselves (`-3`, `2.5`, `true`, `"LOHA"`), everything else by type and size
// (`an array of 3 elements`, `an object of 2 keys`, `a string of 5000 bytes`). Never
// recurses and never longer than a few dozen bytes.
template <typename Json>
std::string describe_json(const Json& j) {
  const auto plural = [](std::size_t n, std::string_view one) {
    return fmt::format("{} {}{}", n, one, n == 1 ? "" : "s");
  };
  if (j.is_object()) return "an object of " + plural(j.size(), "key");
  if (j.is_array()) return "an array of " + plural(j.size(), "element");
  if (j.is_string()) {
    const auto& s = j.template get_ref<const typename Json::string_t&>();
    if (s.size() > kMaxDescribedString) return "a string of " + plural(s.size(), "byte");
    // Built by appending: GCC 12's -Wrestrict misfires on "\"" + std::string (PR 105329).
    std::string quoted = "\"";
    quoted += escape_for_terminal(s);
    quoted += '"';
    return quoted;
  }
  if (j.is_discarded()) return "a discarded value";
  return j.dump();  // null, a boolean or a number: at most a few dozen characters
}

// JSON text for output (reports, configs): strings that are not valid UTF-8 (a non-UTF-8
// path, say) get U+FFFD for each bad byte instead of making dump() throw. `indent` < 0 is
// compact. Every JSON lorank writes goes through here.
template <typename Json>
std::string dump_json(const Json& j, int indent = 2) {
  return j.dump(indent, ' ', /*ensure_ascii=*/false, nlohmann::detail::error_handler_t::replace);
}

// dump_json with `indent` 2 for the outer `pretty_levels` levels and compact below, so a
// config's own fields read as before while a (file-controlled) deeply nested unknown field
// cannot multiply the output by its indentation: the output stays within a small constant
// factor of the compact dump.
template <typename Json>
std::string dump_json_shallow(const Json& j, int pretty_levels = 2, int level = 0) {
  const bool container = j.is_object() || j.is_array();
  if (!container || j.empty() || level >= pretty_levels) return dump_json(j, -1);
  const std::string inner(static_cast<std::size_t>(2 * (level + 1)), ' ');
  const std::string outer(static_cast<std::size_t>(2 * level), ' ');
  std::string out = j.is_object() ? "{\n" : "[\n";
  bool first = true;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!first) out += ",\n";
    first = false;
    out += inner;
    if (j.is_object()) out += dump_json(Json(it.key()), -1) + ": ";
    out += dump_json_shallow(*it, pretty_levels, level + 1);
  }
  out += "\n" + outer + (j.is_object() ? "}" : "]");
  return out;
}

}  // namespace lorank::io

#endif  // LORANK_IO_JSON_TEXT_H_
