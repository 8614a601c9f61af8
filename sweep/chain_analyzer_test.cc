#include "sweep/chain_analyzer.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace ers {
namespace {

ScanRecord TlsRecord(const std::string& der, uint64_t position) {
  ScanRecord r;
  r.result.outcome = Outcome::kTls;
  r.result.chain = {der};
  r.position = position;
  return r;
}

// A remote that serves a fresh chain on every endpoint cannot make records
// pile up: past kMaxAnalysing chains in the pool, the loop thread analyses
// the next one itself, and every record is still handed on exactly once.
TEST(ChainAnalyzerTest, BackPressureBoundsWhatWaits) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  size_t delivered = 0;
  auto analyzer = ChainAnalyzer::Create(&loop, nullptr, nullptr, 1,
                                        [&](ScanRecord&& r) {
                                          ASSERT_NE(r.chain, nullptr);
                                          ++delivered;
                                        });
  ASSERT_TRUE(analyzer.ok());
  constexpr size_t kRecords = 2000;
  for (size_t i = 0; i < kRecords; ++i) {
    (*analyzer)->Submit(TlsRecord(absl::StrCat("not a certificate ", i), i));
    EXPECT_LE((*analyzer)->num_analysing(), ChainAnalyzer::kMaxAnalysing);
  }
  // Nothing returns from the pool until the loop runs: the first
  // kMaxAnalysing chains went to it, the rest were analysed inline.
  EXPECT_EQ((*analyzer)->chains_analysed_inline(), kRecords - ChainAnalyzer::kMaxAnalysing);
  EXPECT_EQ((*analyzer)->MinPending(0), 0u);
  while (delivered < kRecords) uv_run(&loop, UV_RUN_ONCE);
  EXPECT_EQ(delivered, kRecords);
  EXPECT_EQ((*analyzer)->num_waiting(), 0u);
  EXPECT_EQ((*analyzer)->MinPending(0), UINT64_MAX);
  (*analyzer)->Close();
  uv_run(&loop, UV_RUN_DEFAULT);
  analyzer->reset();
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

// Records of a chain being analysed wait for it and share its result.
TEST(ChainAnalyzerTest, IdenticalChainsShareOneAnalysis) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::vector<ScanRecord> out;
  auto analyzer = ChainAnalyzer::Create(&loop, nullptr, nullptr, 2,
                                        [&](ScanRecord&& r) { out.push_back(std::move(r)); });
  ASSERT_TRUE(analyzer.ok());
  for (uint64_t i = 0; i < 10; ++i) (*analyzer)->Submit(TlsRecord("same bytes", i));
  ScanRecord refused;
  refused.result.outcome = Outcome::kRefused;
  (*analyzer)->Submit(std::move(refused));  // not TLS: handed on at once
  ASSERT_EQ(out.size(), 1u);
  while (out.size() < 11) uv_run(&loop, UV_RUN_ONCE);
  EXPECT_EQ((*analyzer)->chains_analysed(), 1u);
  for (size_t i = 1; i < out.size(); ++i) EXPECT_EQ(out[i].chain, out[1].chain);
  (*analyzer)->Close();
  uv_run(&loop, UV_RUN_DEFAULT);
  analyzer->reset();
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

// The sweep's order at the end: the last record delivered, Close, the loop
// closed, then the analyzer destroyed. A pool thread must not wake the loop
// after Close (once the loop is closed its descriptors are gone: libuv
// aborts on the failed write). Many short rounds with more threads than
// cores give a thread every chance to be preempted between publishing its
// result and sending the wake-up.
TEST(ChainAnalyzerTest, NoWakeUpAfterClose) {
  for (int round = 0; round < 300; ++round) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    size_t delivered = 0;
    auto analyzer = ChainAnalyzer::Create(&loop, nullptr, nullptr, 4,
                                          [&](ScanRecord&&) { ++delivered; });
    ASSERT_TRUE(analyzer.ok());
    for (int i = 0; i < 16; ++i) {
      (*analyzer)->Submit(TlsRecord(absl::StrCat("chain ", round, " ", i), i));
    }
    while (delivered < 16) uv_run(&loop, UV_RUN_ONCE);
    (*analyzer)->Close();
    uv_run(&loop, UV_RUN_DEFAULT);
    ASSERT_EQ(uv_loop_close(&loop), 0);
    analyzer->reset();
  }
}

}  // namespace
}  // namespace ers
