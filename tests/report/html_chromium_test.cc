// Renders the HTML report of a real adapter in headless Chromium (tools/check_html.sh) and
// checks the screenshot is not blank. Chromium is a test dependency (scripts/install-deps.sh):
// without it this test fails with instructions, it never skips.
#include <gtest/gtest.h>

#include <fstream>

#include "lorank/html_report.h"
#include "support/audit_fixture.h"
#include "support/run_command.h"
#include "support/shared_data.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

TEST(HtmlChromiumTest, RealAdapterReportRendersNonBlank) {
  testing::TempDir dir;
  const AuditReport report = testing::audit_fixture(testing::shared_path("adapters/sd15-unet-peft-r4"));
  ASSERT_EQ(report.modules.size(), 128u);
  const std::filesystem::path html = dir / "report.html", png = dir / "report.png";
  std::ofstream(html, std::ios::binary) << audit_html(report);
  const testing::CommandOutput r = testing::run_command(
      {"/bin/bash", std::string(LORANK_SOURCE_DIR) + "/tools/check_html.sh", html.string(), png.string()});
  if (r.exit_code == 3) {
    FAIL() << "Chromium is not installed, so the HTML report cannot be checked. Install it with "
              "scripts/install-deps.sh (or apt-get install -y chromium).\n" << r.err;
  }
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("non-white pixels"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace lorank
