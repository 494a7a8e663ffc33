// OutputFiles: names, the stale *.inprogress clean-up, file numbering after a restart, publish = rename.
#include <fstream>

#include <gtest/gtest.h>

#include "writerd/output_files.hpp"
#include "writerd_test_support.hpp"

namespace peaknet::writerd {
namespace {

using testing::TestSandbox;

void touch(const std::filesystem::path& p) { std::ofstream(p) << "x"; }

TEST(WriterdOutputFiles, NamesFollowThePattern) {
  TestSandbox box;
  OutputFiles sut(box.dir().string(), "{run}_{seq}.cxi", "r1", FsyncPolicy::kNone);
  EXPECT_EQ(sut.completed_path(12), (box.dir() / "r1_000012.cxi").string());
  EXPECT_EQ(sut.inprogress_path(3), (box.dir() / "r1_000003.cxi.inprogress").string());
}

TEST(WriterdOutputFiles, ScanDeletesStaleInProgressAndContinuesNumbering) {
  TestSandbox box;
  touch(box.dir() / "r1_000000.cxi");
  touch(box.dir() / "r1_000001.cxi");
  touch(box.dir() / "r1_000002.cxi.inprogress");
  touch(box.dir() / "other_000009.cxi");            // another run: ignored, kept
  touch(box.dir() / "r1_000007.cxi.inprogress.x");  // not ours: kept
  OutputFiles sut(box.dir().string(), "{run}_{seq}.cxi", "r1", FsyncPolicy::kFile);
  const ScanResult scan = sut.scan_and_clean();
  ASSERT_EQ(scan.completed.size(), 2u);
  EXPECT_EQ(scan.completed[1].seq, 1u);
  ASSERT_EQ(scan.removed_stale.size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(box.dir() / "r1_000002.cxi.inprogress"));
  EXPECT_TRUE(std::filesystem::exists(box.dir() / "other_000009.cxi"));
  EXPECT_TRUE(std::filesystem::exists(box.dir() / "r1_000007.cxi.inprogress.x"));
  EXPECT_EQ(scan.next_seq, 3u);  // never reuse the number of a file that may be half-known elsewhere
}

TEST(WriterdOutputFiles, PublishRenamesAndReportsSize) {
  TestSandbox box;
  OutputFiles sut(box.dir().string(), "{run}_{seq}.cxi", "r1", FsyncPolicy::kFile);
  touch(sut.inprogress_path(0));
  EXPECT_EQ(sut.publish(0), 1u);
  EXPECT_TRUE(std::filesystem::exists(sut.completed_path(0)));
  EXPECT_FALSE(std::filesystem::exists(sut.inprogress_path(0)));
  EXPECT_THROW(sut.publish(5), std::runtime_error);  // nothing to rename
}

TEST(WriterdOutputFiles, EnsureDirFailsWhenAPathComponentIsAFile) {
  TestSandbox box;
  touch(box.dir() / "blocker");
  OutputFiles sut((box.dir() / "blocker" / "out").string(), "{run}_{seq}.cxi", "r1", FsyncPolicy::kNone);
  try {
    sut.ensure_dir();
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("blocker/out"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace peaknet::writerd
