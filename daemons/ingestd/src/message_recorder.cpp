#include "message_recorder.hpp"

#include <cstdio>
#include <sstream>
#include <stdexcept>

#include <spdlog/spdlog.h>

namespace peaknet::ingestd {
namespace fs = std::filesystem;
namespace {

void make_dir(const fs::path& dir, const char* what) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) {
    throw std::runtime_error(std::string(what) + " directory " + dir.string() + ": cannot create (" + ec.message() +
                             ")");
  }
}

bool write_file(const fs::path& path, std::span<const uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

}  // namespace

MessageRecorder::MessageRecorder(fs::path dir) : dir_(std::move(dir)) {
  make_dir(dir_, "record");
  index_.open(dir_ / "index.tsv", std::ios::app);
  if (!index_) throw std::runtime_error("record index " + (dir_ / "index.tsv").string() + ": cannot open");
  next_seq_ = read_recording_index(dir_).size();
}

bool MessageRecorder::record(uint32_t source_id, uint64_t t_recv_ns, std::span<const uint8_t> bytes) {
  std::lock_guard lock(mutex_);
  char name[32];
  std::snprintf(name, sizeof name, "%010llu.msg", static_cast<unsigned long long>(next_seq_));
  if (!write_file(dir_ / name, bytes)) {
    spdlog::warn("record: cannot write {}", (dir_ / name).string());
    return false;
  }
  index_ << next_seq_ << '\t' << source_id << '\t' << t_recv_ns << '\t' << bytes.size() << '\t' << name << '\n';
  index_.flush();
  ++next_seq_;
  return static_cast<bool>(index_);
}

uint64_t MessageRecorder::recorded() const {
  std::lock_guard lock(mutex_);
  return next_seq_;
}

std::vector<RecordedMessage> read_recording_index(const fs::path& dir) {
  std::vector<RecordedMessage> out;
  const fs::path index = dir / "index.tsv";
  std::ifstream in(index);
  if (!in) {
    if (fs::exists(index)) throw std::runtime_error("recording index " + index.string() + ": cannot read");
    return out;
  }
  std::string line;
  for (size_t line_no = 1; std::getline(in, line); ++line_no) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    RecordedMessage m;
    std::string file;
    if (!(fields >> m.seq >> m.source_id >> m.t_recv_ns >> m.bytes >> file) || file.find('/') != std::string::npos) {
      throw std::runtime_error("recording index " + index.string() + " line " + std::to_string(line_no) +
                               ": expected \"seq source_id t_recv_ns bytes file\", got \"" + line + "\"");
    }
    m.file = dir / file;
    out.push_back(std::move(m));
  }
  return out;
}

Quarantine::Quarantine(fs::path dir, uint64_t max_files) : dir_(std::move(dir)), max_files_(max_files) {
  make_dir(dir_, "quarantine");
}

void Quarantine::save(const std::string& reason, uint32_t source_id, uint64_t message_id,
                      std::span<const uint8_t> bytes) {
  {
    std::lock_guard lock(mutex_);
    if (saved_ >= max_files_) return;
    ++saved_;
  }
  const fs::path path = dir_ / (reason + "-s" + std::to_string(source_id) + "-m" + std::to_string(message_id) + ".msg");
  if (!write_file(path, bytes)) spdlog::warn("quarantine: cannot write {}", path.string());
}

uint64_t Quarantine::saved() const {
  std::lock_guard lock(mutex_);
  return saved_;
}

}  // namespace peaknet::ingestd
