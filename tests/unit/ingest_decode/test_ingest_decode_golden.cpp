// Every golden wire vector decodes to exactly the MANIFEST's arrays (ZFP: within its tolerance of
// the original values), or is rejected with the reason we map its manifest description to.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "golden_manifest.hpp"
#include "ingest/decode/decoder.hpp"
#include "ingest/decode/inspect.hpp"
#include "ingest/decode/memory_sink.hpp"
#include "ingest/decode/sha256.hpp"

namespace peaknet::ingest {
namespace {
using testing::manifest;
using testing::read_bytes;
using testing::vector_entry;
using testing::wire_dir;

// The manifest describes each reject in prose; this is our reason code for each of them.
const std::map<std::string, std::string>& expected_reasons() {
  static const std::map<std::string, std::string> m = {
      {"hdf5-truncated.h5msg", "truncated"},
      {"hdf5-corrupt-chunk.h5msg", "decompression_error"},
      {"hdf5-bslz4-bad-header.h5msg", "decompression_error"},
      {"hdf5-bszstd-debian-bitshuffle-only.h5msg", "decompression_error"},
      {"hdf5-unknown-filter.h5msg", "unsupported_filter"},
      {"npz-missing-detector.npzmsg", "missing_field"},
      {"npz-detector-3d.npzmsg", "bad_shape"},
      {"npz-truncated.npzmsg", "truncated"},
      {"npz-zipbomb-claim.npzmsg", "over_size_limit"},
      {"npz-npy-header-lies.npzmsg", "malformed"},
      {"npz-object-pickle.npzmsg", "unsupported_dtype"},
      {"npz-deflate-bomb-4g.npzmsg", "over_size_limit"},
      {"simplon-bad-types-image.cbormsg", "malformed"},
      {"simplon-bad-types-start.cbormsg", "malformed"},
      {"simplon-not-a-map.cbormsg", "malformed"},
      {"simplon-truncated.cbormsg", "truncated"},
      {"simplon-image-bad-payload.cbormsg", "decompression_error"},
      {"empty.msg", "unknown_format"},
      {"one-byte.msg", "unknown_format"},
      {"random-4k.msg", "unknown_format"},
      {"hdf5-signature-only.msg", "truncated"},
      {"zip-signature-only.msg", "truncated"},
  };
  return m;
}

bool is_detector(const nlohmann::json& v, const nlohmann::json& a) {
  const std::string name = a["name"];
  if (v["format"] == "simplon-cbor") return name == "compressed_data";
  if (name == "detector_data" || name == "/data/data") return true;
  return v["layout"] == "lclstream-main-root-keys" && a["shape"].size() >= 3;
}

struct Decoded {
  DecodeResult result;
  MemorySink sink;
};

// Simplon images need their start message first (same session).
void decode_vector(const nlohmann::json& v, Decoder& decoder, Decoded& out) {
  if (v.contains("decode_context")) {
    MemorySink ignore;
    const auto start = read_bytes(wire_dir() + "/" + v["decode_context"]["from"].get<std::string>());
    ASSERT_FALSE(decoder.decode(start, ignore).reject);
  } else if (v["format"] == "simplon-cbor" && v["expected"] == "reject") {
    MemorySink ignore;  // bad-payload / bad-types images: a valid start of the same stream first
    decoder.decode(read_bytes(wire_dir() + "/simplon-start.cbormsg"), ignore);
  }
  const auto message = read_bytes(wire_dir() + "/" + v["file"].get<std::string>());
  out.result = decoder.decode(message, out.sink);
}

std::string concat_hash(const MemorySink& sink) {
  Sha256 h;
  for (const auto& e : sink.events()) h.update(e.pixels);
  return h.hex();
}

class GoldenWireVector : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenWireVector, DecodesToManifestResult) {
  const nlohmann::json& v = vector_entry(GetParam());
  DecoderOptions options;
  Decoder sut(options);
  Decoded d;
  decode_vector(v, sut, d);
  const std::string expected = v["expected"];
  const std::string format = v["format"];
  EXPECT_EQ(to_string(d.result.format), format == "unknown" ? "unknown" : format);

  if (expected == "reject") {
    ASSERT_TRUE(expected_reasons().count(GetParam())) << "map this reject vector to a reason";
    ASSERT_TRUE(d.result.reject) << "accepted a malformed vector";
    EXPECT_EQ(to_string(*d.result.reject), expected_reasons().at(GetParam())) << d.result.detail;
    EXPECT_FALSE(d.result.detail.empty());
    EXPECT_EQ(d.sink.begun(), d.sink.events().size() + d.sink.aborted());
    return;
  }
  ASSERT_FALSE(d.result.reject) << to_string(*d.result.reject) << ": " << d.result.detail;
  if (expected == "skip") {
    EXPECT_TRUE(d.result.no_image);
    EXPECT_EQ(d.result.events, 0u);
    return;
  }
  const nlohmann::json* det = nullptr;
  const nlohmann::json* ts = nullptr;
  const nlohmann::json no_arrays = nlohmann::json::array();
  for (const auto& a : v.contains("arrays") ? v["arrays"] : no_arrays) {
    if (is_detector(v, a)) det = &a;
    const std::string n = a["name"];
    if (n == "timestamp" || n == "/data/timestamp" || n == "/timestamp") ts = &a;
  }
  if (det == nullptr) {  // start / stop / end control messages
    EXPECT_EQ(d.result.events, 0u);
    const std::string type = v["cbor"]["type"];
    EXPECT_EQ(d.result.end_of_stream, type == "stop" || type == "end");
    return;
  }
  const uint64_t batch = format == "simplon-cbor" ? 1
                         : ts                     ? (*ts)["shape"][0].get<uint64_t>()
                                                  : (*det)["shape"][0].get<uint64_t>();
  ASSERT_EQ(d.result.events, batch);
  ASSERT_EQ(d.sink.events().size(), batch);
  uint64_t total_elems = 1;
  for (uint64_t dim : (*det)["shape"]) total_elems *= dim;
  for (const auto& e : d.sink.events()) {
    EXPECT_EQ(numpy_descr(e.meta.dtype), (*det)["dtype"].get<std::string>());
    EXPECT_EQ(uint64_t{e.meta.channels} * e.meta.height * e.meta.width, total_elems / batch);
    EXPECT_EQ(e.meta.events_in_message, batch);
  }
  if (det->contains("sha256")) {
    EXPECT_EQ(concat_hash(d.sink), (*det)["sha256"].get<std::string>()) << "decoded pixels differ";
  } else {  // lossy ZFP: compare with the values before compression
    ASSERT_TRUE(det->value("lossy", false));
    const auto original = testing::read_npy(wire_dir() + "/" + (*det)["original_npy"].get<std::string>());
    ASSERT_EQ(original.count(), total_elems);
    double max_err = 0;
    size_t k = 0;
    for (const auto& e : d.sink.events()) {
      for (size_t i = 0; i < e.pixels.size() / shm::dtype_size(e.meta.dtype); ++i, ++k) {
        max_err = std::max(max_err, std::abs(element_as_double(e.pixels.data(), e.meta.dtype, i) - original.at(k)));
      }
    }
    EXPECT_LE(max_err, (*det)["max_abs_error"].get<double>());
  }
}

TEST_P(GoldenWireVector, InspectReportsManifestArrays) {
  const nlohmann::json& v = vector_entry(GetParam());
  std::vector<std::string> files;
  if (v.contains("decode_context")) files.push_back(wire_dir() + "/" + v["decode_context"]["from"].get<std::string>());
  else if (v["format"] == "simplon-cbor" && v["expected"] == "reject")
    files.push_back(wire_dir() + "/simplon-start.cbormsg");
  files.push_back(wire_dir() + "/" + v["file"].get<std::string>());
  const auto report = inspect_files(files, DecoderOptions{}).back();
  ASSERT_FALSE(report.contains("error"));
  if (v["expected"] == "reject") {
    EXPECT_EQ(report.value("reject", ""), expected_reasons().at(GetParam()));
    return;
  }
  ASSERT_FALSE(report.contains("reject")) << report.dump();
  if (!v.contains("arrays")) return;  // control messages
  ASSERT_TRUE(report.contains("arrays")) << report.dump();
  for (const auto& want : v["arrays"]) {
    auto it = std::find_if(report["arrays"].begin(), report["arrays"].end(),
                           [&](const nlohmann::json& a) { return a["name"] == want["name"]; });
    ASSERT_NE(it, report["arrays"].end()) << "inspect lacks " << want["name"];
    EXPECT_EQ((*it)["dtype"], want["dtype"]) << want["name"];
    EXPECT_EQ((*it)["shape"], want["shape"]) << want["name"];
    if (want.contains("sha256")) {
      EXPECT_EQ((*it)["sha256"], want["sha256"]) << want["name"];
    }
  }
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return s;
}

INSTANTIATE_TEST_SUITE_P(Manifest, GoldenWireVector, ::testing::ValuesIn(testing::vector_files()), test_name);

// Metadata against the saved originals (independent of the decoders under test).
TEST(GoldenWireMetadata, NpzEventsCarryTimestampWavelengthAndCenterPadding) {
  Decoder sut(DecoderOptions{});
  MemorySink sink;
  const auto r = sut.decode(read_bytes(wire_dir() + "/npz-deflate.npzmsg"), sink);
  ASSERT_FALSE(r.reject) << r.detail;
  const auto ts = testing::read_npy(wire_dir() + "/arrays/npz-deflate.timestamp.npy");
  const auto wl = testing::read_npy(wire_dir() + "/arrays/npz-deflate.photon_wavelength.npy");
  const auto orig = testing::read_npy(wire_dir() + "/arrays/npz-deflate.detector_data_original_shape.npy");
  ASSERT_EQ(sink.events().size(), ts.count());
  for (size_t i = 0; i < sink.events().size(); ++i) {
    const EventMeta& m = sink.events()[i].meta;
    EXPECT_EQ(m.timestamp, ts.at(i));
    EXPECT_EQ(m.photon_wavelength_a, wl.at(i));
    EXPECT_EQ(m.orig_height, orig.at(2));
    EXPECT_EQ(m.orig_width, orig.at(3));
    EXPECT_EQ(m.pad_top, (m.height - m.orig_height) / 2);
    EXPECT_EQ(m.pad_left, (m.width - m.orig_width) / 2);
  }
}

TEST(GoldenWireMetadata, BottomRightPadModeHasZeroOffsets) {
  DecoderOptions options;
  options.pad_mode = PadMode::kBottomRight;
  Decoder sut(options);
  MemorySink sink;
  ASSERT_FALSE(sut.decode(read_bytes(wire_dir() + "/npz-stored.npzmsg"), sink).reject);
  ASSERT_FALSE(sink.events().empty());
  EXPECT_LT(sink.events()[0].meta.orig_height, sink.events()[0].meta.height);
  EXPECT_EQ(sink.events()[0].meta.pad_top, 0u);
  EXPECT_EQ(sink.events()[0].meta.pad_left, 0u);
}

TEST(GoldenWireMetadata, U64TimestampsKeptExactly) {
  Decoder sut(DecoderOptions{});
  MemorySink sink;
  ASSERT_FALSE(sut.decode(read_bytes(wire_dir() + "/npz-deflate-u16.npzmsg"), sink).reject);
  ASSERT_FALSE(sink.events().empty());
  for (const auto& e : sink.events()) {
    EXPECT_TRUE(e.meta.has_timestamp_u64);
    EXPECT_EQ(e.meta.timestamp, static_cast<double>(e.meta.timestamp_u64));
  }
}

TEST(GoldenWireMetadata, MergedBatchRegroupsPanelsIntoEvents) {
  Decoder sut(DecoderOptions{});
  MemorySink sink;
  const auto r = sut.decode(read_bytes(wire_dir() + "/npz-deflate-c2-merged.npzmsg"), sink);
  ASSERT_FALSE(r.reject) << r.detail;
  ASSERT_EQ(sink.events().size(), 3u);
  EXPECT_EQ(sink.events()[0].meta.channels, 2u);
}

TEST(GoldenWireMetadata, CorruptHdf5ChunkDropsOnlyThatEvent) {
  Decoder sut(DecoderOptions{});
  MemorySink sink;
  const auto r = sut.decode(read_bytes(wire_dir() + "/hdf5-corrupt-chunk.h5msg"), sink);
  ASSERT_TRUE(r.reject);
  EXPECT_EQ(r.events, 2u);
  EXPECT_EQ(r.events_rejected, 1u);
  ASSERT_EQ(sink.events().size(), 2u);
  EXPECT_EQ(sink.aborted(), 1u);
  const auto original = testing::read_npy(wire_dir() + "/arrays/hdf5-gzip.data.npy");
  const size_t per_event = original.bytes.size() / 3;
  EXPECT_EQ(sink.events()[0].meta.index_in_message, 0u);
  EXPECT_EQ(sink.events()[1].meta.index_in_message, 2u);
  EXPECT_TRUE(std::equal(sink.events()[0].pixels.begin(), sink.events()[0].pixels.end(), original.bytes.begin()));
  EXPECT_TRUE(std::equal(sink.events()[1].pixels.begin(), sink.events()[1].pixels.end(),
                         original.bytes.begin() + static_cast<ptrdiff_t>(2 * per_event)));
}

TEST(GoldenWireMetadata, SizeLimitRejectsBombBeforeAnySlotIsTaken) {
  DecoderOptions options;
  options.max_decoded_bytes = 64u << 20;
  Decoder sut(options);
  MemorySink sink;
  const auto r = sut.decode(read_bytes(wire_dir() + "/npz-deflate-bomb-4g.npzmsg"), sink);
  ASSERT_TRUE(r.reject);
  EXPECT_EQ(to_string(*r.reject), std::string("over_size_limit"));
  EXPECT_EQ(sink.begun(), 0u);
}

}  // namespace
}  // namespace peaknet::ingest
