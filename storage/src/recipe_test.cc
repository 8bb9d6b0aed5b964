// Runs the h5py recipe of docs/FORMAT.md, exactly as printed there, with Debian's
// /usr/bin/python3 (python3-h5py) on a file our writer produced: a real client, not our reader.
// Also checks the file opens with `h5dump -H` (hdf5-tools).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "phasesweep/storage/results_writer.h"
#include "phasesweep/storage/shard_writer.h"
#include "test_util.h"

namespace phasesweep::storage {
namespace {

using testing::ScratchDir;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The python block that follows the <!-- h5py-recipe --> marker in docs/FORMAT.md.
std::string RecipeFromDocs() {
  const std::string doc = ReadFile(std::string(PHASESWEEP_SOURCE_DIR) + "/docs/FORMAT.md");
  const std::string open = "<!-- h5py-recipe -->\n```python\n";
  const size_t start = doc.find(open);
  if (start == std::string::npos) return "";
  const size_t body = start + open.size();
  return doc.substr(body, doc.find("```", body) - body);
}

JobRecord Record(int64_t grid, uint64_t seed, JobStatus status = JobStatus::kDone) {
  JobRecord r = testing::MakeRecord(grid, seed, 6, 0, status);
  for (int i = 0; i < 6; ++i) {
    r.trace.metrics["test_loss"].push_back(testing::ExpectedValue(r.job_id, 7, i));
    r.trace.metrics["train_loss"].push_back(i);
  }
  return r;
}

TEST(RecipeTest, H5pyRecipeFromFormatDocReadsOneMetricForAllSeedsOfAGridPoint) {
  const std::string recipe = RecipeFromDocs();
  ASSERT_FALSE(recipe.empty()) << "no h5py recipe block in docs/FORMAT.md";
  int lines = 0;
  for (char c : recipe) lines += c == '\n' ? 1 : 0;
  EXPECT_LE(lines, 5) << recipe;

  ScratchDir dir;
  const std::string path = dir / "results.h5";
  OpenOptions o;
  o.provenance = testing::MakeProvenance();
  o.plan = testing::MakePlan(2, 4);
  auto w = ResultsWriter::Open(path, o);
  ASSERT_TRUE(w.ok()) << w.status().message();
  // Grid 0: seeds 2, 0, 3 done (written out of order, in two shards), seed 1 failed.
  ASSERT_TRUE(WriteShard(path, ShardInfo{"a", 0, "h"}, {Record(0, 2), Record(1, 0)}).ok());
  ASSERT_TRUE(WriteShard(path, ShardInfo{"b", 1, "h"},
                         {Record(0, 0), Record(0, 3), Record(0, 1, JobStatus::kFailed)})
                  .ok());
  ASSERT_TRUE(w->Merge().ok());

  const std::string script = dir / "recipe.py";
  std::ofstream(script) << recipe << "import sys\nnp.savetxt(sys.stdout, loss, fmt='%.17g')\n";
  std::string out;
  ASSERT_EQ(testing::RunShell("cd " + dir.path() + " && /usr/bin/python3 recipe.py", &out), 0)
      << out;
  std::istringstream rows(out);
  for (uint64_t seed : {0, 2, 3}) {  // seed order, failed seed 1 left out
    const std::string id = testing::JobId(0, seed);
    for (int i = 0; i < 6; ++i) {
      double v = 0;
      ASSERT_TRUE(rows >> v) << out;
      EXPECT_EQ(v, testing::ExpectedValue(id, 7, i)) << "seed " << seed << " probe " << i;
    }
  }
  double extra;
  EXPECT_FALSE(rows >> extra) << out;

  std::string dump;
  ASSERT_EQ(testing::RunShell("h5dump -H " + path, &dump), 0) << dump;
  EXPECT_NE(dump.find("ATTRIBUTE \"format_version\""), std::string::npos) << dump;
  EXPECT_NE(dump.find("GROUP \"jobs\""), std::string::npos) << dump;
}

}  // namespace
}  // namespace phasesweep::storage
