#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "message_recorder.hpp"

namespace peaknet::ingestd {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("pntest-" + std::to_string(::getpid()) + "-" + name)) {
    fs::remove_all(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

TEST(MessageRecorder, RecordedMessagesComeBackWithSourceTimeAndBytes) {
  TempDir dir("recorder");
  {
    MessageRecorder sut(dir.path);
    const std::vector<uint8_t> a = {1, 2, 3}, b = {9};
    ASSERT_TRUE(sut.record(2, 1000, a));
    ASSERT_TRUE(sut.record(0, 2500, b));
    EXPECT_EQ(sut.recorded(), 2u);
  }
  const auto index = read_recording_index(dir.path);
  ASSERT_EQ(index.size(), 2u);
  EXPECT_EQ(index[0].source_id, 2u);
  EXPECT_EQ(index[0].t_recv_ns, 1000u);
  EXPECT_EQ(index[1].bytes, 1u);
  EXPECT_EQ(fs::file_size(index[0].file), 3u);
  // A second recorder appends after the existing messages.
  MessageRecorder again(dir.path);
  ASSERT_TRUE(again.record(1, 3000, std::vector<uint8_t>{7, 7}));
  EXPECT_EQ(read_recording_index(dir.path).size(), 3u);
}

TEST(MessageRecorder, MalformedIndexNamesTheFileAndLine) {
  TempDir dir("badindex");
  fs::create_directories(dir.path);
  std::ofstream(dir.path / "index.tsv") << "0\t0\t1\t3\t0.msg\nnot a line\n";
  try {
    read_recording_index(dir.path);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
}

TEST(Quarantine, SavesAtMostTheConfiguredNumberOfFiles) {
  TempDir dir("quarantine");
  Quarantine sut(dir.path, 2);
  for (int i = 0; i < 5; ++i) sut.save("truncated", 0, i, std::vector<uint8_t>{1});
  EXPECT_EQ(sut.saved(), 2u);
  EXPECT_TRUE(fs::exists(dir.path / "truncated-s0-m0.msg"));
  EXPECT_FALSE(fs::exists(dir.path / "truncated-s0-m2.msg"));
}

}  // namespace
}  // namespace peaknet::ingestd
