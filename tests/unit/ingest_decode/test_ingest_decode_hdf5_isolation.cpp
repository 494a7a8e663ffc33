// libhdf5 runs in a parser child process per Decoder (hdf5_parser_process.hpp): a message that
// crashes or stalls libhdf5 is rejected alone, the child is replaced, the daemon lives on; the
// catalog that comes back is the one libhdf5 reads in-process, and a damaged reply is refused.
#include <algorithm>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "decode_error.hpp"
#include "golden_manifest.hpp"
#include "hdf5_catalog_codec.hpp"
#include "hdf5_parser_process.hpp"
#include "ingest/decode/decoder.hpp"
#include "ingest/decode/memory_sink.hpp"
#include "pusher/batch_pattern.hpp"
#include "pusher/hdf5_image_writer.hpp"

namespace peaknet::ingest {
namespace {

using Image = std::vector<uint8_t>;
std::span<const std::byte> bytes_of(const Image& v) { return {reinterpret_cast<const std::byte*>(v.data()), v.size()}; }

Image good_image() {
  return pusher::make_hdf5_image(pusher::pattern_batch(1, 2, {2, 1, 9, 21}, "float32", true),
                                 pusher::Hdf5Compression::kNone, pusher::Hdf5Layout::kTileChunks);
}

/// A chunked layout message (v3) that declares 0 dimensions: libhdf5 1.10 divides by it inside
/// H5Dopen (SIGFPE, found by fuzzing), before any API call of ours could look at it.
Image zero_rank_layout_image() {
  Image image = good_image();
  // The float64 timestamps, one per chunk: version 3, class chunked, rank + 1 = 2, an 8-byte
  // address, then the dims {1, element size 8} as little-endian u32.
  const uint8_t dims[8] = {1, 0, 0, 0, 8, 0, 0, 0};
  for (size_t i = 0; i + 19 <= image.size(); ++i) {
    if (image[i] == 3 && image[i + 1] == 2 && image[i + 2] == 2 && std::memcmp(&image[i + 11], dims, 8) == 0) {
      image[i + 2] = 0;
      return image;
    }
  }
  throw std::runtime_error("no chunked layout message for the timestamps in the image");
}

std::vector<std::string> event_digests(const MemorySink& sink) {
  std::vector<std::string> out;
  for (const auto& e : sink.events()) out.emplace_back(reinterpret_cast<const char*>(e.pixels.data()), e.pixels.size());
  return out;
}

TEST(Hdf5Isolation, GoldenMessagesDecodeAlikeInTheParserProcessAndInProcess) {
  DecoderOptions isolated, trusted;
  trusted.hdf5_isolate = false;
  Decoder a(isolated), b(trusted);
  int compared = 0;
  for (const auto& file : testing::vector_files()) {
    if (file.find("h5msg") == std::string::npos) continue;
    const auto message = testing::read_bytes(testing::wire_dir() + "/" + file);
    MemorySink sa, sb;  // pixels kept
    const DecodeResult ra = a.decode(message, sa), rb = b.decode(message, sb);
    EXPECT_EQ(ra.events, rb.events) << file;
    EXPECT_EQ(ra.reject.has_value(), rb.reject.has_value()) << file;
    EXPECT_EQ(ra.detail, rb.detail) << file;
    EXPECT_EQ(event_digests(sa), event_digests(sb)) << file;
    ++compared;
  }
  EXPECT_GE(compared, 10);
}

TEST(Hdf5Isolation, MessageThatCrashesLibhdf5IsRejectedAndTheNextOneDecodes) {
  const Image bad = zero_rank_layout_image();
  const Image good = good_image();
  Decoder sut(DecoderOptions{});
  MemorySink sink(false);
  const DecodeResult r = sut.decode(bytes_of(bad), sink);
  ASSERT_TRUE(r.reject);
  EXPECT_EQ(*r.reject, RejectReason::kMalformed);
  EXPECT_NE(r.detail.find("libhdf5 crashed"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("signal " + std::to_string(SIGFPE)), std::string::npos) << r.detail;
  const DecodeResult ok = sut.decode(bytes_of(good), sink);
  EXPECT_FALSE(ok.reject) << ok.detail;
  EXPECT_EQ(ok.events, 2u);
}

TEST(Hdf5Isolation, ParserPastItsDeadlineIsKilledAndReplaced) {
  const Image good = good_image();
  Hdf5ParserProcess parser;
  try {
    (void)parser.read_catalog(bytes_of(good), 1 << 30, std::chrono::milliseconds(0));
    FAIL() << "no deadline";
  } catch (const DecodeError& e) {
    EXPECT_EQ(e.reason(), RejectReason::kMalformed);
    EXPECT_NE(std::string(e.what()).find("within 0 ms"), std::string::npos) << e.what();
  }
  EXPECT_EQ(parser.child_pid(), -1) << "killed and reaped";
  const Hdf5Catalog catalog = parser.read_catalog(bytes_of(good), 1 << 30, std::chrono::seconds(10));
  ASSERT_NE(catalog.find("/data/data"), nullptr);
  EXPECT_EQ(parser.children_started(), 2u);
}

bool is_zombie(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

TEST(Hdf5Isolation, ChildKilledBetweenMessagesIsReplacedWithoutBlamingTheNext) {
  const Image good = good_image();
  Hdf5ParserProcess parser;
  (void)parser.read_catalog(bytes_of(good), 1 << 30, std::chrono::seconds(10));
  const pid_t first = parser.child_pid();
  ASSERT_GT(first, 0);
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  for (int i = 0; i < 400 && !is_zombie(first); ++i) usleep(5000);  // dead, not yet reaped
  const Hdf5Catalog again = parser.read_catalog(bytes_of(good), 1 << 30, std::chrono::seconds(10));
  EXPECT_NE(again.find("/data/data"), nullptr);
  EXPECT_NE(parser.child_pid(), first);
  EXPECT_EQ(parser.children_started(), 2u);
}

TEST(Hdf5Isolation, ChildKeepsOnlyItsSocketAndMessageMemfd) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);  // stands for the daemon's sockets and Q1 descriptors
  const Image good = good_image();
  Hdf5ParserProcess parser;
  (void)parser.read_catalog(bytes_of(good), 1 << 30, std::chrono::seconds(10));
  std::set<int> fds;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(parser.child_pid()) + "/fd")) {
    fds.insert(std::stoi(e.path().filename().string()));
  }
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  EXPECT_EQ(fds.count(pipe_fds[0]) + fds.count(pipe_fds[1]), 0u);
  fds.erase(0);
  fds.erase(1);
  fds.erase(2);
  EXPECT_EQ(fds.size(), 2u) << "socket + memfd";
}

TEST(Hdf5CatalogCodec, RoundTripKeepsSpansAndRefusesOnesOutsideTheMessage) {
  const Image good = good_image();
  const auto message = bytes_of(good);
  const Hdf5Catalog catalog = read_hdf5_catalog(message, 1 << 30);
  const auto reply = encode_catalog(catalog, message);
  const Hdf5Catalog back = decode_catalog(reply, message);
  ASSERT_EQ(back.datasets.size(), catalog.datasets.size());
  const Hdf5Dataset& d = *back.find("/data/data");
  const Hdf5Dataset& o = *catalog.find("/data/data");
  EXPECT_EQ(d.shape, o.shape);
  EXPECT_EQ(d.chunk_shape, o.chunk_shape);
  ASSERT_EQ(d.chunks.size(), o.chunks.size());
  for (size_t i = 0; i < d.chunks.size(); ++i) {
    EXPECT_EQ(d.chunks[i].raw.data(), o.chunks[i].raw.data());
    EXPECT_EQ(d.chunks[i].raw.size(), o.chunks[i].raw.size());
  }
  try {                                              // a reply naming bytes past the end of a (shorter) message
    (void)decode_catalog(reply, message.first(64));  // the chunks lie further in
    FAIL() << "span outside the message accepted";
  } catch (const DecodeError& e) {
    EXPECT_EQ(e.reason(), RejectReason::kMalformed) << e.what();
  }
  EXPECT_THROW((void)decode_catalog(std::span(reply).first(reply.size() - 1), message), DecodeError);
  const auto failure = encode_catalog_failure(RejectReason::kTruncated, "cut short");
  try {
    (void)decode_catalog(failure, message);
    FAIL() << "failure not rethrown";
  } catch (const DecodeError& e) {
    EXPECT_EQ(e.reason(), RejectReason::kTruncated);
    EXPECT_STREQ(e.what(), "cut short");
  }
}

}  // namespace
}  // namespace peaknet::ingest
