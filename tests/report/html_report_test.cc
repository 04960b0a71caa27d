#include "lorank/html_report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <regex>
#include <string>

#include "support/audit_fixture.h"
#include "support/shared_data.h"

namespace lorank {
namespace {

using testing::audit_fixture;
using testing::make_module;
using testing::shared_path;
using testing::synthetic_report;

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t p = haystack.find(needle); p != std::string::npos;
       p = haystack.find(needle, p + needle.size())) {
    ++n;
  }
  return n;
}

// Opening tags "<tag " / "<tag>" against closing "</tag>".
void expect_balanced(const std::string& html, const std::string& tag) {
  const std::size_t open = count(html, "<" + tag + " ") + count(html, "<" + tag + ">");
  EXPECT_EQ(open, count(html, "</" + tag + ">")) << "unbalanced <" << tag << ">";
}

void expect_well_formed(const std::string& html) {
  EXPECT_EQ(html.rfind("<!DOCTYPE html>\n<html lang=\"en\">", 0), 0u);
  EXPECT_EQ(html.substr(html.size() - 8), "</html>\n");
  for (const char* tag : {"html", "head", "body", "section", "svg", "g", "details", "summary",
                          "table", "thead", "tbody", "tr", "td", "th", "pre", "div", "p",
                          "title", "text", "script", "style", "header", "nav", "footer"}) {
    expect_balanced(html, tag);
  }
  EXPECT_EQ(count(html, "<script>"), 1u);
  EXPECT_EQ(count(html, "<style>"), 1u);
  // Nothing loads from anywhere: the only URL is the SVG namespace.
  const std::string no_ns = std::regex_replace(html, std::regex("http://www.w3.org/2000/svg"), "");
  EXPECT_EQ(no_ns.find("http://"), std::string::npos);
  EXPECT_EQ(no_ns.find("https://"), std::string::npos);
  EXPECT_FALSE(std::regex_search(html, std::regex(R"(<[^<>]*\ssrc=)")));  // no tag loads a src
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  // No NaN/Inf text anywhere (numbers, coordinates, sort keys).
  const std::regex bad(R"((^|[^A-Za-z])-?(nan|inf|infinity)([^A-Za-z]|$))", std::regex::icase);
  std::smatch m;
  EXPECT_FALSE(std::regex_search(html, m, bad)) << "found '" << m.str() << "'";
}

// The spectra section's markup: from its id to the heatmap's.
std::string spectra_section(const std::string& html) {
  const std::size_t a = html.find("<section id=\"spectra\">");
  const std::size_t b = html.find("<section id=\"heatmap\">");
  EXPECT_NE(a, std::string::npos);
  EXPECT_NE(b, std::string::npos);
  return html.substr(a, b - a);
}

TEST(HtmlReportTest, RealAdapterIsWellFormedWithOneSvgPerTypeGroup) {
  const AuditReport report = audit_fixture(shared_path("adapters/distilbert-imdb-r8"));
  ASSERT_EQ(report.modules.size(), 12u);
  const std::string html = audit_html(report);
  expect_well_formed(html);
  const std::string spectra = spectra_section(html);
  EXPECT_EQ(count(spectra, "<svg "), 2u);  // q_lin, v_lin
  EXPECT_EQ(count(spectra, "<details class=\"group\""), 2u);
  EXPECT_EQ(count(spectra, "class=\"panel\""), 12u);
  for (const char* id : {"summary", "spectra", "heatmap", "energy", "config", "modules"}) {
    EXPECT_NE(html.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  }
  EXPECT_NE(html.find("<pre id=\"config-text\">"), std::string::npos);
  EXPECT_EQ(count(html, "<tr"), 13u);  // header + 12 modules
  EXPECT_NE(html.find("distilbert.transformer.layer.5.attention.v_lin"), std::string::npos);
}

TEST(HtmlReportTest, UntrainedModulesAreFlatPanelsNotNan) {
  const AuditReport report = audit_fixture(shared_path("adapters/sd15-unet-peft-r4"));
  ASSERT_EQ(report.summary.untrained, 32u);
  const std::string html = audit_html(report);
  expect_well_formed(html);
  EXPECT_EQ(count(spectra_section(html), "class=\"flat-t\""), 32u);
  EXPECT_EQ(count(html, "<span class=\"badge bad\">untrained</span>"), 32u);
  EXPECT_NE(html.find("class=\"huntrained\""), std::string::npos);  // heatmap cells
}

TEST(HtmlReportTest, HostileStringsRenderAsText) {
  AuditReport report;
  report.path = "/x/</title><script>alert('path')</script>.safetensors";
  report.format = "<b>peft</b>";
  report.rule = "threshold:\"><svg onload=alert(1)>";
  report.warnings = {"<script>alert('warn')</script> & more"};
  report.suggested_config = "{\"r\": 4}</pre><script>alert('cfg')</script>";
  AuditModule m = make_module("base_model.model.layers.0.<script>alert(1)</script>",
                              {1.0, 0.5, 0.01});
  m.short_name = "\"><img src=x onerror=alert(2)>";
  m.module_type = "<script>alert(3)</script>";
  report.modules.push_back(m);
  report.modules.push_back(make_module("bad.utf8.\xff\xfe.\xc0\xaf.q\x01proj", {2.0, 1.0}));
  testing::finish_report(report);
  report.suggested_config = "{\"r\": 4}</pre><script>alert('cfg')</script>";
  const std::string html = audit_html(report);
  expect_well_formed(html);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<svg onload"), std::string::npos);
  EXPECT_EQ(html.find("<b>peft"), std::string::npos);
  EXPECT_EQ(html.find("</pre><script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;warn&#39;)&lt;/script&gt; &amp; more"),
            std::string::npos);
  // Invalid UTF-8 and control bytes become U+FFFD: the page stays valid UTF-8.
  EXPECT_EQ(html.find('\xff'), std::string::npos);
  EXPECT_EQ(html.find('\x01'), std::string::npos);
  EXPECT_NE(html.find("bad.utf8.\xEF\xBF\xBD\xEF\xBF\xBD.\xEF\xBF\xBD\xEF\xBF\xBD.q\xEF\xBF\xBDproj"),
            std::string::npos);
}

TEST(HtmlReportTest, HeatmapRowLabelsKeepTheTextEncoderApart) {
  // kohya SDXL: two text encoders and the UNet. Row labels are whole display names; a label
  // cut from the left ("…_encoder_layers_3") would lose te1/te2.
  AuditReport report;
  for (const char* name : {"lora_te1_text_model_encoder_layers_3_self_attn_q_proj",
                           "lora_te2_text_model_encoder_layers_3_self_attn_q_proj",
                           "lora_unet_down_blocks_1_attentions_0_proj_in"}) {
    report.modules.push_back(testing::make_module(name, {3.0, 2.0, 1.0}));
  }
  testing::finish_report(report);
  const std::string html = audit_html(report);
  for (const char* label : {">te1_text_model_encoder_layers_3<", ">te2_text_model_encoder_layers_3<",
                            ">unet_down_blocks_1<"}) {
    EXPECT_NE(html.find(label), std::string::npos) << label;
  }
}

TEST(HtmlReportTest, EmptyAdapterGivesAValidPage) {
  AuditReport report;
  report.path = "empty.safetensors";
  const std::string html = audit_html(report);
  expect_well_formed(html);
  EXPECT_GE(count(html, "No LoRA modules."), 3u);
  EXPECT_EQ(count(html, "class=\"panel\""), 0u);
}

TEST(HtmlReportTest, NonFiniteMetricsNeverPrintNanOrInf) {
  AuditReport report;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  AuditModule m = make_module("model.layers.3.mlp.up_proj", {4.0, 2.0, 0.0, 0.0});
  m.metrics.stable_rank = nan;
  m.metrics.gap_ratio = inf;
  m.metrics.gap_index = 2;
  m.metrics.entropy_rank = -inf;
  m.scale = nan;
  report.modules.push_back(m);
  AuditModule z = make_module("model.layers.4.mlp.up_proj", {nan, inf, 1.0});
  report.modules.push_back(z);
  testing::finish_report(report);
  expect_well_formed(audit_html(report));
}

TEST(HtmlReportTest, SizeStaysReasonableAt224And1024Modules) {
  const std::vector<std::string> types = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                          "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj",
                                          "mlp.down_proj"};
  const std::string html7b = audit_html(synthetic_report(32, types, 16, 37));
  expect_well_formed(html7b);
  EXPECT_LT(html7b.size(), 3u << 20);
  EXPECT_EQ(count(spectra_section(html7b), "<svg "), 7u);
  EXPECT_EQ(count(html7b, "class=\"panel\""), 224u + 7u);  // spectra + one energy panel per type

  std::vector<std::string> many = types;
  many.push_back("mlp.extra_proj");
  const std::string big = audit_html(synthetic_report(128, many, 64, 0));  // 1024 modules, r=64
  expect_well_formed(big);
  EXPECT_LT(big.size(), 12u << 20);
}

}  // namespace
}  // namespace lorank
