// Producer sequence numbers: the documented keys (producer_id / producer_seq) decoded from npz, HDF5
// and Simplon CBOR messages, and ProducerLedger's per-producer counts in a real CounterBlock, kept
// across a restart (a new ledger over the same block).
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ingest/decode/decoder.hpp"
#include "ingest/decode/memory_sink.hpp"
#include "ingestd/producer_ledger.hpp"
#include "pusher/batch_pattern.hpp"
#include "pusher/hdf5_image_writer.hpp"
#include "pusher/npz_writer.hpp"
#include "shm/counter_block.hpp"

namespace peaknet::ingestd {
namespace {

std::vector<ingest::MemorySink::Event> decode(const std::vector<uint8_t>& message) {
  ingest::Decoder decoder{ingest::DecoderOptions{}};
  ingest::MemorySink sink(false);
  const auto r = decoder.decode({reinterpret_cast<const std::byte*>(message.data()), message.size()}, sink);
  EXPECT_FALSE(r.reject) << ingest::to_string(*r.reject) << ": " << r.detail;
  return sink.events();
}

void expect_sequence(const std::vector<ingest::MemorySink::Event>& events, uint64_t rank, uint64_t message) {
  ASSERT_EQ(events.size(), 3u);
  for (uint64_t b = 0; b < 3; ++b) {
    EXPECT_TRUE(events[b].meta.has_producer_seq) << "event " << b;
    EXPECT_EQ(events[b].meta.producer_id, rank);
    EXPECT_EQ(events[b].meta.producer_seq, message * 3 + b);
  }
}

TEST(ProducerSequence, NpzCarriesIdAndPerEventSequence) {
  expect_sequence(decode(pusher::make_npz(pusher::pattern_batch(7, 4, {3, 1, 8, 8}, "float32", false, true), 0)), 7, 4);
}

// docs/decoders.md: producer_id may be shaped (), (1,) or (B,) in npz.
TEST(ProducerSequence, NpzProducerIdAsScalarOrPerEventArray) {
  for (const std::vector<uint64_t>& shape : {std::vector<uint64_t>{}, std::vector<uint64_t>{3}}) {
    auto arrays = pusher::pattern_batch(5, 2, {3, 1, 8, 8}, "float32", false, true);
    for (auto& a : arrays) {
      if (a.name != "producer_id") continue;
      const std::vector<uint8_t> one(a.bytes.begin(), a.bytes.begin() + 8);
      a.shape = shape;
      a.bytes.clear();
      for (uint64_t i = 0; i < (shape.empty() ? 1 : shape[0]); ++i)
        a.bytes.insert(a.bytes.end(), one.begin(), one.end());
    }
    SCOPED_TRACE(shape.empty() ? "shape ()" : "shape (B,)");
    expect_sequence(decode(pusher::make_npz(arrays, 0)), 5, 2);
  }
}

TEST(ProducerSequence, Hdf5CarriesIdAndPerEventSequence) {
  expect_sequence(decode(pusher::make_hdf5_image(pusher::pattern_batch(2, 11, {3, 1, 8, 8}, "uint16", true, true),
                                                 pusher::Hdf5Compression::kNone)),
                  2, 11);
}

TEST(ProducerSequence, AbsentWhenTheProducerSendsNone) {
  for (const auto& e : decode(pusher::make_npz(pusher::pattern_batch(7, 4, {3, 1, 8, 8}, "float32", false), 0))) {
    EXPECT_FALSE(e.meta.has_producer_seq);
  }
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void append_text(std::vector<uint8_t>& out, const std::string& s) {
  out.push_back(static_cast<uint8_t>(0x60 + s.size()));  // < 24 bytes
  out.insert(out.end(), s.begin(), s.end());
}

TEST(ProducerSequence, SimplonImageMapKeys) {
  const std::string dir = PEAKNET_GOLDEN_DIR "/wire/";
  // The golden image is 'm' + a map of 10 pairs: add producer_seq 300 (uint16) and producer_id 5.
  auto image = read_file(dir + "simplon-image-0.cbormsg");
  ASSERT_GE(image.size(), 2u);
  ASSERT_EQ(image[1], 0xAA);
  image[1] = 0xAC;
  append_text(image, "producer_seq");
  image.insert(image.end(), {0x19, 0x01, 0x2C});
  append_text(image, "producer_id");
  image.push_back(0x05);
  ingest::Decoder decoder{ingest::DecoderOptions{}};
  ingest::MemorySink sink(false);
  const auto start = read_file(dir + "simplon-start.cbormsg");
  (void)decoder.decode({reinterpret_cast<const std::byte*>(start.data()), start.size()}, sink);
  const auto r = decoder.decode({reinterpret_cast<const std::byte*>(image.data()), image.size()}, sink);
  ASSERT_FALSE(r.reject) << r.detail;
  ASSERT_EQ(sink.events().size(), 1u);
  EXPECT_TRUE(sink.events()[0].meta.has_producer_seq);
  EXPECT_EQ(sink.events()[0].meta.producer_seq, 300u);
  EXPECT_EQ(sink.events()[0].meta.producer_id, 5u);
}

struct BlockName {
  std::string name = "pkdeliv" + std::to_string(::getpid()) + "-stats";
  ~BlockName() { shm::CounterBlock::unlink(name); }
};

uint64_t value(const shm::CounterBlock& block, const std::string& name) {
  for (const auto& [n, v] : block.snapshot()) {
    if (n == name) return v;
  }
  return ~0ull;
}

TEST(ProducerLedger, CountsEventsAndHighestSequencePerProducerAcrossARestart) {
  BlockName b;
  {
    auto block = shm::CounterBlock::open_or_create(b.name, 1024);
    ProducerLedger ledger(block);
    for (uint64_t seq : {0, 1, 3, 2, 7}) ledger.record(4, seq);  // 4, 5, 6 went elsewhere (or were lost)
    ledger.record(9, 0);
  }
  auto block = shm::CounterBlock::open_or_create(b.name, 1024);  // a restarted ingestd
  ProducerLedger ledger(block);
  ledger.record(4, 8);
  EXPECT_EQ(value(block, "producer.4.events"), 6u);
  EXPECT_EQ(value(block, "producer.4.next_seq"), 9u);
  EXPECT_EQ(value(block, "producer.9.events"), 1u);
  EXPECT_EQ(value(block, "producer.9.next_seq"), 1u);
  EXPECT_EQ(value(block, "seq_events"), 7u);
  EXPECT_EQ(value(block, "seq_expected"), 10u);  // 9 + 1: the numbers this node's view implies
  EXPECT_EQ(value(block, "seq_producers"), 2u);
}

}  // namespace
}  // namespace peaknet::ingestd
