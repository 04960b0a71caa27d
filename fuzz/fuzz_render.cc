// Fuzzes what the user sees: open an adapter, audit it, and render the audit as text,
// JSON, CSV and HTML; resize it and render that as text and JSON; compare it with itself.
// An input holding the separator below is a PEFT folder (adapter_config.json before it,
// adapter_model.safetensors after it); any other input is one weights file. Beyond
// crashes, the renderers' promises are checked (docs/security.md): text and CSV carry no
// control byte but '\n' and only valid UTF-8, and every JSON output parses back.
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "support.h"
#include "lorank/adapter.h"
#include "lorank/audit.h"
#include "lorank/audit_report.h"
#include "lorank/compare.h"
#include "lorank/compare_report.h"
#include "lorank/html_report.h"
#include "lorank/resize.h"

namespace {

constexpr std::string_view kSeparator = "\n#LORANK-WEIGHTS#\n";

// One folder per process in tmpfs, rewritten for every input.
const std::string& folder() {
  static const std::string dir = [] {
    std::string tmpl = "/dev/shm/lorank-fuzz-render-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    return tmpl;
  }();
  return dir;
}

void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) std::abort();  // a harness failure, not a finding
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    std::uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (std::size_t k = 1; k < n; ++k) {
      const unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 0x2) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    const std::uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n;
  }
  return true;
}

// Text for a terminal: no control byte but '\n', no C1 control, valid UTF-8.
void check_terminal_text(std::string_view what, std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const bool c1 = c == 0xc2 && i + 1 < text.size() &&
                    static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(text[i + 1]) <= 0x9f;
    if ((c < 0x20 && c != '\n') || c == 0x7f || c1) {
      std::fprintf(stderr, "%.*s holds the raw control byte 0x%02x at %zu\n",
                   static_cast<int>(what.size()), what.data(), c, i);
      std::abort();
    }
  }
  if (!valid_utf8(text)) {
    std::fprintf(stderr, "%.*s is not valid UTF-8\n", static_cast<int>(what.size()), what.data());
    std::abort();
  }
}

void check_json(std::string_view what, const std::string& text) {
  if (!nlohmann::json::accept(text)) {
    std::fprintf(stderr, "%.*s is not valid JSON\n", static_cast<int>(what.size()), what.data());
    std::abort();
  }
}

void check_message(const lorank::Status& s) {
  if (!s.ok()) check_terminal_text("an error message", s.message());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::filesystem::path path;
  std::optional<lorank::fuzz::MemFile> file;
  if (const std::size_t at = input.find(kSeparator); at != std::string_view::npos) {
    path = folder();
    write_file(folder() + "/adapter_config.json", input.substr(0, at));
    write_file(folder() + "/adapter_model.safetensors", input.substr(at + kSeparator.size()));
  } else {
    file.emplace(data, size);
    path = file->path();
  }
  lorank::Result<lorank::Adapter> a = lorank::open_adapter(path);
  if (!a) return check_message(a.error()), 0;
  std::size_t work = 0;  // keep each run fast: skip adapters with huge factors
  for (const lorank::LoraModule& m : a->modules) work += m.rank * (m.out + m.in);
  if (work > (1u << 20)) return 0;

  lorank::AuditOptions audit;
  audit.threads = 1;
  lorank::Result<lorank::AuditReport> report = lorank::run_audit(*a, audit);
  if (!report) return check_message(report.error()), 0;
  check_terminal_text("audit_table", lorank::audit_table(*report));
  check_terminal_text("audit_csv", lorank::audit_csv(*report));
  check_json("audit_json", lorank::audit_json(*report));
  (void)lorank::audit_html(*report);
  for (const std::string& w : report->warnings) check_terminal_text("an audit warning", w);

  lorank::ResizeOptions resize;
  resize.threads = 1;
  resize.rule = *lorank::RankRule::parse(size > 0 && (data[0] & 1) ? "energy:0.9" : "fixed:1");
  lorank::Result<lorank::ResizeResult> resized = lorank::resize_adapter(*a, resize);
  if (resized) {
    check_terminal_text("resize_table", lorank::resize_table(*resized));
    check_json("resize_json", lorank::resize_json(*resized));
  } else {
    check_message(resized.error());
  }

  lorank::CompareOptions compare;
  compare.threads = 1;
  lorank::Result<lorank::AdapterComparison> c = lorank::compare_adapters(*a, *a, compare);
  if (c) {
    check_terminal_text("compare_table", lorank::compare_table(*a, *a, *c));
    check_json("compare_json", lorank::compare_json(*a, *a, *c));
  } else {
    check_message(c.error());
  }
  return 0;
}
