#pragma once
// MessageRecorder: saves received raw messages (exact bytes) with their arrival times, so a run can
// be replayed later (`source: replay`). Layout of DIR:
//   index.tsv   one line per message: "<seq>\t<source_id>\t<t_recv_ns>\t<bytes>\t<file>"
//   <seq>.msg   the message bytes
// Thread-safe (several receive threads share one recorder).
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace peaknet::ingestd {

class MessageRecorder {
 public:
  /// Creates DIR if needed; throws std::runtime_error naming DIR when it cannot.
  explicit MessageRecorder(std::filesystem::path dir);
  /// Writes one message; logs (rate-limited by the caller's volume) and returns false on I/O error.
  bool record(uint32_t source_id, uint64_t t_recv_ns, std::span<const uint8_t> bytes);
  uint64_t recorded() const;

 private:
  std::filesystem::path dir_;
  mutable std::mutex mutex_;
  std::ofstream index_;
  uint64_t next_seq_ = 0;
};

/// One entry of a recording's index.tsv.
struct RecordedMessage {
  uint64_t seq = 0;
  uint32_t source_id = 0;
  uint64_t t_recv_ns = 0;
  uint64_t bytes = 0;
  std::filesystem::path file;
};

/// Reads DIR/index.tsv. Throws std::runtime_error naming the file and line when it is malformed.
std::vector<RecordedMessage> read_recording_index(const std::filesystem::path& dir);

/// Saves rejected messages for later inspection: DIR/<reason>-s<source>-m<message>.msg, at most
/// `max_files` of them (then it only counts). Thread-safe.
class Quarantine {
 public:
  Quarantine(std::filesystem::path dir, uint64_t max_files);
  void save(const std::string& reason, uint32_t source_id, uint64_t message_id, std::span<const uint8_t> bytes);
  uint64_t saved() const;

 private:
  std::filesystem::path dir_;
  uint64_t max_files_;
  mutable std::mutex mutex_;
  uint64_t saved_ = 0;
};

}  // namespace peaknet::ingestd
