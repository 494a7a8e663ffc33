// Worker process for the libshm multi-process and crash tests (exec'd by the tests).
//   shm_ring_worker produce <ring> <producer_id> <count|-1> <payload_bytes> [slow]
//     attach, publish count events (forever with -1), finish_producing at the end. slow: fill the payload
//     byte by byte with pauses, so a SIGKILL most likely lands mid-write.
//   shm_ring_worker consume <ring> <out_file> <batch> [hold_us]
//     claim batches, verify each checksum (exit 3 on a corrupt event), append (producer, sequence) to
//     out_file before releasing, exit 0 once finished(). hold_us: sleep while holding the claims.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "shm/ring.hpp"
#include "shm_test_support.hpp"

using namespace peaknet::shm;
using peaknet::shm::testing::EventRecord;

namespace {

int produce(const std::string& ring_name, uint64_t producer, int64_t count, uint64_t payload_bytes, bool slow) {
  Ring ring = Ring::attach(ring_name);
  ring.begin_producing();
  for (int64_t seq = 0; count < 0 || seq < count; ++seq) {
    std::optional<WriteSlot> slot;
    while (!(slot = ring.acquire(std::chrono::milliseconds(1000)))) {}
    if (slow) {
      // The record goes last, so a partially written slot fails its checksum if it were ever delivered.
      std::vector<std::byte> tmp(slot->size());
      peaknet::shm::testing::write_event(tmp.data(), producer, static_cast<uint64_t>(seq), payload_bytes);
      std::byte* dst = slot->data();
      const size_t n = sizeof(EventRecord) + payload_bytes;
      for (size_t i = n; i-- > 0;) {
        dst[i] = tmp[i];
        if (i % 256 == 0) std::this_thread::sleep_for(std::chrono::microseconds(20));
      }
    } else {
      peaknet::shm::testing::write_event(slot->data(), producer, static_cast<uint64_t>(seq), payload_bytes);
    }
    ring.publish(std::move(*slot));
  }
  ring.finish_producing();
  return 0;
}

int consume(const std::string& ring_name, const std::string& out_path, size_t batch, int hold_us) {
  Ring ring = Ring::attach(ring_name);
  int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return 2;
  std::vector<ReadSlot> slots;
  std::vector<peaknet::shm::testing::Delivery> out;
  for (;;) {
    slots.clear();
    size_t n = ring.claim(slots, batch, std::chrono::milliseconds(200));
    if (n == 0) {
      if (ring.finished()) break;
      continue;
    }
    out.clear();
    for (const ReadSlot& s : slots) {
      EventRecord r;
      if (!peaknet::shm::testing::event_valid(s.data(), s.size(), &r)) {
        std::fprintf(stderr, "corrupt event in slot %u\n", s.index());
        return 3;
      }
      out.push_back({r.producer_id, r.sequence});
    }
    if (hold_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(std::rand() % (hold_us + 1)));
    const auto bytes = static_cast<ssize_t>(out.size() * sizeof out[0]);
    if (::write(fd, out.data(), static_cast<size_t>(bytes)) != bytes) return 2;
    for (ReadSlot& s : slots) ring.release(std::move(s));
  }
  ::close(fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "produce" && argc >= 6) {
      return produce(argv[2], std::strtoull(argv[3], nullptr, 10), std::strtoll(argv[4], nullptr, 10),
                     std::strtoull(argv[5], nullptr, 10), argc > 6 && std::string(argv[6]) == "slow");
    }
    if (mode == "consume" && argc >= 5) {
      std::srand(static_cast<unsigned>(::getpid()));
      return consume(argv[2], argv[3], std::strtoull(argv[4], nullptr, 10), argc > 5 ? std::atoi(argv[5]) : 0);
    }
    std::fprintf(stderr,
                 "usage: shm_ring_worker produce <ring> <id> <count> <payload_bytes> [slow] | "
                 "consume <ring> <out> <batch> [hold_us]\n");
    return 64;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shm_ring_worker: %s\n", e.what());
    return 1;
  }
}
