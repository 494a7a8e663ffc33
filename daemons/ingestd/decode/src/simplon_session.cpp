#include "ingest/decode/simplon_session.hpp"

#include "wire_dtype.hpp"

namespace peaknet::ingest {
namespace {
constexpr size_t kMaxRuns = 8;
}

SimplonSession::SimplonSession(const DecoderOptions& options)
    : max_messages_(options.simplon_hold_max_messages), max_bytes_(options.simplon_hold_max_bytes) {
  if (!options.simplon_default_shape.empty() && !options.simplon_default_dtype.empty()) {
    if (auto t = parse_numpy_name(options.simplon_default_dtype)) {
      SimplonFrameContext c;
      for (int64_t d : options.simplon_default_shape) c.shape.push_back(static_cast<uint64_t>(d));
      c.dtype = t->dtype;
      c.big_endian = t->big_endian;
      default_context_ = std::move(c);
    }
  }
}

void SimplonSession::set_context(SimplonFrameContext context) {
  std::lock_guard lock(mutex_);
  for (auto it = contexts_.begin(); it != contexts_.end(); ++it) {
    if (it->run == context.run) {
      contexts_.erase(it);
      break;
    }
  }
  contexts_.push_back(std::move(context));
  if (contexts_.size() > kMaxRuns) contexts_.pop_front();
}

std::optional<SimplonFrameContext> SimplonSession::context_for(const std::string& run) const {
  std::lock_guard lock(mutex_);
  for (auto it = contexts_.rbegin(); it != contexts_.rend(); ++it) {
    if (it->run == run) return *it;
  }
  // An image without a run id (or a start without one) matches the newest context.
  if ((run.empty() || (contexts_.size() == 1 && contexts_.back().run.empty())) && !contexts_.empty()) {
    return contexts_.back();
  }
  return default_context_;
}

uint32_t SimplonSession::hold(std::span<const std::byte> message, const std::string& run) {
  std::lock_guard lock(mutex_);
  uint32_t evicted = 0;
  if (max_messages_ == 0 || message.size() > max_bytes_) return 1;  // cannot hold at all
  while (!held_.empty() && (held_.size() + 1 > max_messages_ || held_bytes_ + message.size() > max_bytes_)) {
    held_bytes_ -= held_.front().bytes.size();
    held_.pop_front();
    ++evicted;
  }
  held_.push_back(Held{run, std::vector<std::byte>(message.begin(), message.end())});
  held_bytes_ += message.size();
  return evicted;
}

std::vector<std::vector<std::byte>> SimplonSession::release(const std::string& run) {
  std::lock_guard lock(mutex_);
  std::vector<std::vector<std::byte>> out;
  for (auto it = held_.begin(); it != held_.end();) {
    if (it->run == run || it->run.empty() || run.empty()) {
      held_bytes_ -= it->bytes.size();
      out.push_back(std::move(it->bytes));
      it = held_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

size_t SimplonSession::held_messages() const {
  std::lock_guard lock(mutex_);
  return held_.size();
}

}  // namespace peaknet::ingest
