#include "writerd/cxi_sink.hpp"

#include "shm/event_clock.hpp"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "common/unique_fd.hpp"
#include "writerd/q2_slot.hpp"

namespace peaknet::writerd {
namespace {

using shm::realtime_ns;

// Without a geometry (no event seen yet) the output is probed with a scratch file.
void probe_directory(const std::string& dir) {
  const std::string path = dir + "/.writerd-probe-" + std::to_string(::getpid());
  common::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) throw std::runtime_error("output dir " + dir + ": cannot create a file: " + std::strerror(errno));
  const bool ok = ::write(fd.get(), "x", 1) == 1;
  const int err = errno;
  fd.reset();
  ::unlink(path.c_str());
  if (!ok) throw std::runtime_error("output dir " + dir + ": cannot write: " + std::strerror(err));
}

}  // namespace

CxiSink::CxiSink(shm::Ring& ring, WriterCounters& counters, EventIdWindow& seen, std::unique_ptr<OutputFiles> files,
                 SinkSettings settings)
    : ring_(ring), counters_(counters), seen_(seen), output_(std::move(files)), settings_(settings) {}

bool CxiSink::start() {
  try {
    recover();
  } catch (const std::exception& e) {
    fail(e.what());
    return false;
  }
  return true;
}

CxiSink::~CxiSink() {
  // Never release an event that is not in a completed file: whatever is still held goes back to Q2.
  if (!held_.empty()) abandon_held();
  if (file_) {
    file_.reset();
    ::unlink(output_->inprogress_path(seq_).c_str());
  }
}

void CxiSink::recover() {
  output_->ensure_dir();
  const ScanResult scan = output_->scan_and_clean();
  for (const auto& stale : scan.removed_stale) {
    spdlog::warn("removed incomplete file {} (its events are still in Q2 and will be written again)", stale);
  }
  size_t ids = 0;
  for (const auto& done : scan.completed) {
    try {
      const std::vector<EventKey> events = CxiFile::read_event_keys(done.path);
      for (const EventKey& key : events) seen_.insert(key);
      ids += events.size();
      record_file({done.path, events.size()});
    } catch (const H5Error& e) {
      // A *.cxi name means complete, so this is outside damage: keep the file, say so, go on.
      spdlog::error("cannot read event ids of completed file ({}); its events may be written again", e.what());
    }
  }
  seq_ = std::max(seq_, scan.next_seq);
  recovered_ = true;
  if (!scan.completed.empty()) {
    spdlog::info("output {}: {} completed files with {} events; next file number {}", output_->dir(),
                 scan.completed.size(), ids, seq_);
  }
}

CxiLayout CxiSink::layout() const {
  CxiLayout l;
  l.max_num_peak = settings_.max_num_peak;
  l.frames = settings_.frames;
  l.masks = settings_.masks;
  l.compression_level = int(settings_.compression_level);
  l.pool = settings_.pool;
  if (geometry_) {
    l.slab_height = geometry_->slab_height();
    l.slab_width = geometry_->slab_width();
  }
  return l;
}

void CxiSink::add(HeldEvent event) {
  if (failed_ && settings_.on_error == OnError::kDrop) {
    ring_.release(std::move(event.slot));
    counters_.count_drop(WriterDrop::kWriteError);
    return;
  }
  held_.push_back(std::move(event));
  counters_.held_slots.store(held_.size());
}

void CxiSink::flush() {
  if (!failed_ && recovered_) append_pending();
}

void CxiSink::open_file() {
  // The geometry goes first: every completed file in the directory has its .geom beside it.
  if (!geom_written_ && geometry_ && !settings_.geom_file_name.empty()) {
    output_->write_atomically(settings_.geom_file_name, geometry_->geom_text());
    geom_written_ = true;
  }
  file_.emplace(output_->inprogress_path(seq_), layout());
  opened_at_ = std::chrono::steady_clock::now();
}

void CxiSink::append_pending() {
  const size_t frame_floats = geometry_ ? size_t(geometry_->slab_height() * geometry_->slab_width()) : 0;
  // Rows (with their frames) are made per chunk so a batch of large frames is never all in memory.
  // Rows with frames are made per chunk of about 64 MiB, but at least one row per pool thread.
  const size_t threads = settings_.pool ? settings_.pool->concurrency() : 1;
  const size_t chunk = settings_.frames || settings_.masks
                           ? std::max<size_t>(threads, (64u << 20) / std::max<size_t>(1, frame_floats * 4))
                           : 256;
  std::vector<CxiRow> rows;
  std::vector<const CxiRow*> ptrs;
  while (!failed_ && in_file_ < held_.size()) {
    try {
      if (!file_) open_file();
      const size_t room = settings_.events_per_file > in_file_ ? settings_.events_per_file - in_file_ : 1;
      const size_t n = std::min({held_.size() - in_file_, room, chunk});
      rows.resize(n);
      ptrs.clear();
      const auto make_row = [&](size_t i) {
        HeldEvent& h = held_[in_file_ + i];
        Q2Event q;
        // Both were checked when the event was taken; the held slot cannot have changed since.
        parse_q2_slot(h.slot.data(), h.slot.size(), q);
        make_cxi_row(q.header, q.peaks, q.frame, q.frame_bytes, *geometry_, settings_.max_num_peak, settings_.frames,
                     rows[i]);
        h.peaks_outside = rows[i].peaks_outside;
        h.frame_missing = rows[i].frame_missing;
        if (settings_.masks) make_mask(q, h, rows[i]);
      };
      if (settings_.pool && (settings_.frames || settings_.masks)) {
        settings_.pool->run(n, make_row);  // rows are independent (frame placement, dtype conversion)
      } else {
        for (size_t i = 0; i < n; ++i) make_row(i);
      }
      for (size_t i = 0; i < n; ++i) ptrs.push_back(&rows[i]);
      file_->append(ptrs);
      in_file_ += n;
    } catch (const std::exception& e) {
      fail(e.what());
      return;
    }
    if (in_file_ >= settings_.events_per_file && !complete()) return;
  }
}

void CxiSink::make_mask(const Q2Event& q, HeldEvent& held, CxiRow& row) {
  row.mask.clear();
  row.mask_status = MaskStatus::kNone;
  held.mask_status = MaskStatus::kNone;
  if (!held.hit) return;  // never a non-hit's mask (keep_all_events rows): status 0, zero row
  const shm::ResultHeader& h = q.header;
  std::string why;
  std::vector<uint8_t> device_copy;
  const uint8_t* mask = q.host_mask;
  if (h.mask_place == shm::MaskPlace::kNone) {
    why = "the Q2 record carries no mask (inferd without write_masks, or it did not fit the Q2 slot)";
  } else if (h.mask_place == shm::MaskPlace::kDevice) {
    device_copy.resize(h.mask_bytes);
    why = settings_.device_masks ? settings_.device_masks->read(h, device_copy.data()) : "no device mask reader";
    mask = device_copy.data();
  }
  if (why.empty()) why = place_mask(h, mask, *geometry_, row.mask);
  if (why.empty()) {
    row.mask_status = MaskStatus::kWritten;
  } else {
    row.mask.clear();
    row.mask_status = MaskStatus::kMissing;
    held.mask_error = std::move(why);
  }
  held.mask_status = row.mask_status;
}

bool CxiSink::complete() {
  if (failed_ || !file_) return !failed_;
  const std::string done_path = output_->completed_path(seq_);
  if (in_file_ == 0) {  // an empty file (opened as a probe) is never published
    file_.reset();
    ::unlink(output_->inprogress_path(seq_).c_str());
    return true;
  }
  uint64_t bytes = 0;
  try {
    file_->close();
    file_.reset();
    bytes = output_->publish(seq_);
  } catch (const std::exception& e) {
    fail(e.what());
    return false;
  }
  // The file is durable under its final name: only now may its events leave Q2.
  const uint64_t now_ns = realtime_ns();
  uint64_t nonhits = 0, outside = 0, missing = 0, masks = 0, masks_missing = 0;
  std::string mask_error;
  for (uint64_t i = 0; i < in_file_; ++i) {
    HeldEvent& h = held_.front();
    nonhits += h.hit ? 0 : 1;
    outside += h.peaks_outside;
    missing += h.frame_missing ? 1 : 0;
    masks += h.mask_status == MaskStatus::kWritten ? 1 : 0;
    if (h.mask_status == MaskStatus::kMissing) {
      ++masks_missing;
      mask_error = h.mask_error;
    }
    if (h.t_recv_ns > 0 && h.t_recv_ns <= now_ns) counters_.latency_us.record((now_ns - h.t_recv_ns) / 1000);
    ring_.release(std::move(h.slot));
    held_.pop_front();
  }
  counters_.events_written.fetch_add(in_file_);
  counters_.nonhits_written.fetch_add(nonhits);
  counters_.peaks_outside_panel.fetch_add(outside);
  counters_.frames_missing.fetch_add(missing);
  counters_.masks_written.fetch_add(masks);
  counters_.masks_missing.fetch_add(masks_missing);
  counters_.bytes_written.fetch_add(bytes);
  counters_.files_closed.fetch_add(1);
  counters_.held_slots.store(held_.size());
  record_file({done_path, in_file_});
  if (missing > 0) {
    spdlog::warn(
        "{}: {} of {} frames written as NaN: their Q2 records carried no frame (a producer without "
        "inferd.write_frames?), counted frames_missing",
        done_path, missing, in_file_);
  }
  if (masks_missing > 0) {
    spdlog::warn(
        "{}: {} of {} hits written without their PeakNet mask (peakMaskStatus 2, counted masks_missing); "
        "last reason: {}",
        done_path, masks_missing, masks + masks_missing, mask_error);
  }
  spdlog::info("completed {} ({} events, {} bytes)", done_path, in_file_, bytes);
  in_file_ = 0;
  ++seq_;
  return true;
}

void CxiSink::fail(const std::string& what) {
  counters_.write_errors.fetch_add(1);
  counters_.output_failed.store(1);
  if (what != logged_error_) {
    logged_error_ = what;
    spdlog::error("output failed: {}; {} (retry every {} ms)", what,
                  settings_.on_error == OnError::kBlock ? "keeping events in Q2" : "dropping events",
                  settings_.retry_interval.count());
  }
  failed_ = true;
  last_error_ = what;
  file_.reset();
  ::unlink(output_->inprogress_path(seq_).c_str());
  in_file_ = 0;
  if (settings_.on_error == OnError::kDrop) drop_held(held_.size());
  // Consecutive failures back off (x2 up to x32): each failed close parks an HDF5 descriptor.
  const int shift = std::min(consecutive_failures_++, 5);
  next_retry_ = std::chrono::steady_clock::now() + settings_.retry_interval * (1 << shift);
}

void CxiSink::drop_held(size_t count) {
  for (size_t i = 0; i < count && !held_.empty(); ++i) {
    ring_.release(std::move(held_.front().slot));
    held_.pop_front();
    counters_.count_drop(WriterDrop::kWriteError);
  }
  counters_.held_slots.store(held_.size());
}

void CxiSink::retry() {
  failed_ = false;
  try {
    if (!recovered_) recover();
    output_->ensure_dir();  // it may have been removed meanwhile
    if (held_.empty()) {
      if (geometry_ || !(settings_.frames || settings_.masks)) {
        open_file();
      } else {
        probe_directory(output_->dir());
      }
    } else {
      append_pending();
    }
  } catch (const std::exception& e) {
    fail(e.what());
  }
  if (!failed_) {
    logged_error_.clear();
    consecutive_failures_ = 0;
    counters_.output_failed.store(0);
    spdlog::info("output {} writable again", output_->dir());
  }
}

void CxiSink::tick(std::chrono::steady_clock::time_point now) {
  if (failed_) {
    if (now >= next_retry_) retry();
    return;
  }
  if (file_ && in_file_ > 0 && now - opened_at_ >= settings_.max_file_age) complete();
}

void CxiSink::abandon_held() {
  // ReadSlot's destructor would release (= lose) the event. Leaking the slot objects leaves them
  // CLAIMED by this handle, and the Ring's destructor requeues its unreleased claims (at-least-once).
  if (!held_.empty()) {
    spdlog::warn("leaving {} events unwritten in Q2 (requeued for the next writerd)", held_.size());
    static_cast<void>(new std::deque<HeldEvent>(std::move(held_)));  // intentional leak, see above
    held_.clear();
  }
  in_file_ = 0;
  counters_.held_slots.store(0);
}

void CxiSink::set_on_error(OnError policy) {
  settings_.on_error = policy;
  if (failed_ && policy == OnError::kDrop) drop_held(held_.size());
}

void CxiSink::switch_output(std::unique_ptr<OutputFiles> files) {
  flush();
  complete();
  if (file_) {
    file_.reset();
    ::unlink(output_->inprogress_path(seq_).c_str());
  }
  in_file_ = 0;
  output_ = std::move(files);
  geom_written_ = false;
  seq_ = 0;
  recovered_ = false;
  failed_ = false;
  counters_.output_failed.store(0);
  if (start()) append_pending();
}

void CxiSink::record_file(FileRecord record) {
  files_.push_back(std::move(record));
  ++files_total_;
  if (files_.size() > kFileRecordsKept) files_.pop_front();
}

}  // namespace peaknet::writerd
