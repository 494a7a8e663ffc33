#include "batch_events.hpp"

#include <cmath>
#include <limits>

#include "byte_io.hpp"

namespace peaknet::ingest {
namespace {
std::string shape_text(const std::vector<uint64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + ")";
}

uint32_t dim32(uint64_t v, const std::string& name) {
  if (v == 0 || v > (1u << 24))
    fail(RejectReason::kBadShape, name + ": dimension " + std::to_string(v) + " out of range");
  return static_cast<uint32_t>(v);
}

std::optional<int64_t> aux_int(const AuxArray& a, size_t i) {
  if (i >= a.count()) return std::nullopt;
  if (is_float(a.dtype.dtype)) {
    const double v = element_as_double(a.bytes.data(), a.dtype.dtype, i);
    if (!(v >= 0 && v < 1e12)) return std::nullopt;
    return static_cast<int64_t>(v);
  }
  auto v = element_as_u64(a.bytes.data(), a.dtype.dtype, i);
  if (!v || *v > (1ull << 40)) return std::nullopt;
  return static_cast<int64_t>(*v);
}
}  // namespace

BatchPlan plan_batch(const std::string& name, WireDType dtype, const std::vector<uint64_t>& shape,
                     std::optional<AuxArray> original_shape, bool allow_rank3, const DecoderOptions& options) {
  BatchPlan p;
  p.dtype = dtype;
  if (shape.size() == 4) {
    p.events = dim32(shape[0], name);
    p.channels = dim32(shape[1], name);
    p.height = dim32(shape[2], name);
    p.width = dim32(shape[3], name);
  } else if (shape.size() == 3 && allow_rank3) {
    p.events = dim32(shape[0], name);
    p.channels = 1;
    p.height = dim32(shape[1], name);
    p.width = dim32(shape[2], name);
  } else {
    fail(RejectReason::kBadShape,
         name + " is " + std::to_string(shape.size()) + "-D " + shape_text(shape) + "; expected 4-D (B,C,H,W)");
  }
  if (original_shape && original_shape->count() == 4) {
    auto b = aux_int(*original_shape, 0), c = aux_int(*original_shape, 1);
    // merge_batch_and_channel: (B*C, 1, H, W) with original [B, C, H, W] -> B events of C panels.
    if (b && c && *c > 1 && p.channels == 1 && uint64_t(*b) * uint64_t(*c) == p.events) {
      p.events = static_cast<uint32_t>(*b);
      p.channels = static_cast<uint32_t>(*c);
    }
  }
  p.original_shape = std::move(original_shape);
  const uint64_t total = checked_mul(checked_mul(p.event_bytes(), 1, name.c_str()), p.events, name.c_str());
  if (total > options.max_decoded_bytes) {
    fail(RejectReason::kOverSizeLimit, name + " " + shape_text(shape) + " decodes to " + std::to_string(total) +
                                           " bytes, limit " + std::to_string(options.max_decoded_bytes));
  }
  return p;
}

EventMeta event_meta(const BatchPlan& p, uint32_t i, const DecoderOptions& options) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  EventMeta m;
  m.dtype = p.dtype.dtype;
  m.channels = p.channels;
  m.height = p.height;
  m.width = p.width;
  m.orig_height = p.height;
  m.orig_width = p.width;
  m.index_in_message = i;
  m.events_in_message = p.events;
  m.timestamp = kNaN;
  m.photon_wavelength_a = kNaN;
  // Per-event values need one element per event; a single element applies to all of them.
  auto pick = [&](const AuxArray& a) -> std::optional<size_t> {
    if (a.count() == p.events) return i;
    if (a.count() == 1) return 0;
    return std::nullopt;
  };
  if (p.timestamp) {
    if (auto k = pick(*p.timestamp)) {
      m.timestamp = element_as_double(p.timestamp->bytes.data(), p.timestamp->dtype.dtype, *k);
      if (!is_float(p.timestamp->dtype.dtype)) {
        if (auto u = element_as_u64(p.timestamp->bytes.data(), p.timestamp->dtype.dtype, *k)) {
          m.timestamp_u64 = *u;
          m.has_timestamp_u64 = true;
        }
      }
    }
  }
  if (p.wavelength) {
    if (auto k = pick(*p.wavelength)) {
      m.photon_wavelength_a = element_as_double(p.wavelength->bytes.data(), p.wavelength->dtype.dtype, *k);
    }
  }
  // A sequence needs one number per event; the id may be one for the whole message.
  if (p.producer_seq && p.producer_seq->count() == p.events) {
    if (auto seq = aux_int(*p.producer_seq, i)) {
      std::optional<int64_t> id = int64_t{0};
      if (p.producer_id) id = pick(*p.producer_id) ? aux_int(*p.producer_id, *pick(*p.producer_id)) : std::nullopt;
      if (id) {
        m.producer_id = static_cast<uint64_t>(*id);
        m.producer_seq = static_cast<uint64_t>(*seq);
        m.has_producer_seq = true;
      }
    }
  }
  if (p.original_shape && p.original_shape->count() == 4) {
    auto h = aux_int(*p.original_shape, 2), w = aux_int(*p.original_shape, 3);
    // Frames larger than the target are not cropped by the producer: no padding then.
    if (h && w && *h > 0 && *w > 0 && *h <= int64_t{p.height} && *w <= int64_t{p.width}) {
      m.orig_height = static_cast<uint32_t>(*h);
      m.orig_width = static_cast<uint32_t>(*w);
      if (options.pad_mode == PadMode::kCenter) {
        m.pad_top = (p.height - m.orig_height) / 2;
        m.pad_left = (p.width - m.orig_width) / 2;
      }
    }
  }
  return m;
}

void note_reject(DecodeResult& r, RejectReason reason, const std::string& detail) {
  if (!r.reject) {
    r.reject = reason;
    r.detail = detail;
  }
}

bool emit_event(EventSink& sink, const EventMeta& meta, uint64_t payload_bytes, bool big_endian,
                const std::function<void(std::byte*)>& fill, DecodeResult& r) {
  std::byte* dst = sink.begin_event(meta, payload_bytes);
  if (dst == nullptr) {  // no room: streams that must be consumed anyway get fill(nullptr)
    ++r.events_dropped;
    try {
      fill(nullptr);
    } catch (const DecodeError& e) {
      note_reject(r, e.reason(), "event " + std::to_string(meta.index_in_message) + ": " + e.what());
      return false;
    }
    return true;
  }
  try {
    fill(dst);
    if (big_endian) byteswap_inplace(dst, payload_bytes / shm::dtype_size(meta.dtype), shm::dtype_size(meta.dtype));
  } catch (const DecodeError& e) {
    sink.abort_event();
    ++r.events_rejected;
    note_reject(r, e.reason(), "event " + std::to_string(meta.index_in_message) + ": " + e.what());
    return false;
  } catch (const std::exception& e) {
    sink.abort_event();
    ++r.events_rejected;
    note_reject(r, RejectReason::kMalformed, "event " + std::to_string(meta.index_in_message) + ": " + e.what());
    return false;
  }
  sink.commit_event();
  ++r.events;
  return true;
}

}  // namespace peaknet::ingest
