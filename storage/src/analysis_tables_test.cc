// /analysis tables: round trip, replacement, validation, and the writer lock.
#include "phasesweep/storage/analysis_tables.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "phasesweep/storage/reader.h"
#include "phasesweep/storage/results_writer.h"
#include "phasesweep/storage/shard_writer.h"
#include "test_util.h"

namespace phasesweep::storage {
namespace {

using testing::ScratchDir;

std::string MakeResults(const ScratchDir& dir) {
  const std::string path = dir / "results.h5";
  OpenOptions o;
  o.provenance = testing::MakeProvenance();
  auto w = ResultsWriter::Open(path, o);
  EXPECT_TRUE(w.ok());
  EXPECT_TRUE(WriteShard(path, ShardInfo{"p", 0, "h"}, {testing::MakeRecord(0, 0)}).ok());
  EXPECT_TRUE(w->Merge().ok());
  return path;
}

Table Transitions() {
  Table t;
  t.name = "transitions";
  t.attributes["detector"] = "pelt";
  t.columns.push_back({"job_id", std::vector<std::string>{"a", "b"}});
  t.columns.push_back({"step", std::vector<int64_t>{100, 250}});
  t.columns.push_back({"p_value", std::vector<double>{0.01, 0.5}});
  return t;
}

TEST(AnalysisTablesTest, RoundTripAndReplace) {
  ScratchDir dir;
  const std::string path = MakeResults(dir);
  auto none = ReadAnalysis(path);
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(
      WriteAnalysis(path, {Transitions()}, {{"analyzed_utc", "2024-05-01T00:00:00Z"}}).ok());
  std::map<std::string, std::string> attrs;
  auto back = ReadAnalysis(path, &attrs);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(attrs.at("analyzed_utc"), "2024-05-01T00:00:00Z");
  ASSERT_EQ(back->size(), 1u);
  const Table& t = back->front();
  EXPECT_EQ(t.attributes.at("detector"), "pelt");
  ASSERT_EQ(t.columns.size(), 3u);  // sorted by name
  EXPECT_EQ(t.columns[0].name, "job_id");
  EXPECT_EQ(std::get<std::vector<std::string>>(t.columns[0].values),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(std::get<std::vector<double>>(t.columns[1].values), (std::vector<double>{0.01, 0.5}));
  EXPECT_EQ(std::get<std::vector<int64_t>>(t.columns[2].values), (std::vector<int64_t>{100, 250}));
  // A second analysis replaces the first; the traces are untouched.
  Table other;
  other.name = "tests";
  other.columns.push_back({"statistic", std::vector<double>{1.5}});
  ASSERT_TRUE(WriteAnalysis(path, {other}).ok());
  back = ReadAnalysis(path);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ(back->front().name, "tests");
  auto r = ResultsReader::Open(path);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->jobs().size(), 1u);
}

TEST(AnalysisTablesTest, RejectsBadTablesAndRunningSweeps) {
  ScratchDir dir;
  const std::string path = MakeResults(dir);
  Table ragged = Transitions();
  std::get<std::vector<double>>(ragged.columns[2].values).push_back(1);
  Status s = WriteAnalysis(path, {ragged});
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("p_value has 3 rows"), std::string::npos) << s.message();
  Table slash = Transitions();
  slash.name = "a/b";
  EXPECT_EQ(WriteAnalysis(path, {slash}).code(), Status::Code::kInvalidArgument);
  OpenOptions o;
  o.provenance = testing::MakeProvenance();
  auto sweep = ResultsWriter::Open(path, o);
  ASSERT_TRUE(sweep.ok());
  Status locked = WriteAnalysis(path, {Transitions()});
  EXPECT_EQ(locked.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(locked.message().find("being written by another sweep"), std::string::npos);
  EXPECT_EQ(WriteAnalysis(dir / "missing.h5", {}).code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace phasesweep::storage
