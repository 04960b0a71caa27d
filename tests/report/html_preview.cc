// lorank_html_preview ADAPTER OUT.html: the HTML audit of a real adapter, with the test
// fixture's simple metrics. For looking at the report (tools/check_html.sh) until
// `lorank audit --html` is wired to the real audit.
#include <fmt/core.h>

#include <fstream>

#include "lorank/html_report.h"
#include "support/audit_fixture.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    fmt::print(stderr, "usage: {} ADAPTER OUT.html\n", argv[0]);
    return 2;
  }
  const lorank::AuditReport report = lorank::testing::audit_fixture(argv[1]);
  if (report.path.empty()) return 1;
  std::ofstream(argv[2], std::ios::binary) << lorank::audit_html(report);
  fmt::print("{}: {} modules\n", argv[2], report.modules.size());
  return 0;
}
