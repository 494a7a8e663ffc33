#include "hdf5_catalog_codec.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <type_traits>

#include "byte_io.hpp"

namespace peaknet::ingest {
namespace {

constexpr uint8_t kOk = 0, kFailed = 1;
// Bounds on what a reply may declare (the catalog reader's own limits are lower).
constexpr uint64_t kMaxItems = 1u << 24;
constexpr uint64_t kMaxText = 1u << 20;

class Writer {
 public:
  template <typename T>
  void put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto* p = reinterpret_cast<const std::byte*>(&v);
    out_.insert(out_.end(), p, p + sizeof(T));
  }
  void put_bytes(std::span<const std::byte> b) {
    put<uint64_t>(b.size());
    out_.insert(out_.end(), b.begin(), b.end());
  }
  void put_text(const std::string& s) { put_bytes(std::as_bytes(std::span(s.data(), s.size()))); }
  template <typename T>
  void put_list(const std::vector<T>& v) {
    put<uint64_t>(v.size());
    for (const T& x : v) put<T>(x);
  }
  /// A span inside the message as (offset, size).
  void put_span(std::span<const std::byte> s, std::span<const std::byte> message) {
    const std::less_equal<const std::byte*> le;  // a total order, also for pointers elsewhere
    const bool inside = le(message.data(), s.data()) && le(s.data(), message.data() + message.size());
    put<uint64_t>(inside ? static_cast<uint64_t>(s.data() - message.data()) : 0);
    put<uint64_t>(s.size());
  }
  std::vector<std::byte> take() { return std::move(out_); }

 private:
  std::vector<std::byte> out_;
};

class Reader {
 public:
  explicit Reader(Bytes in) : in_(in) {}
  template <typename T>
  T get() {
    const T v = load_le<T>(in_, at_, "hdf5 parser reply");
    at_ += sizeof(T);
    return v;
  }
  uint64_t count(uint64_t limit) {
    const uint64_t n = get<uint64_t>();
    if (n > limit) fail(RejectReason::kMalformed, "hdf5 parser reply: count " + std::to_string(n) + " out of range");
    return n;
  }
  Bytes bytes(uint64_t limit) {
    const uint64_t n = count(limit);
    const Bytes b = sub_span(in_, at_, n, "hdf5 parser reply");
    at_ += n;
    return b;
  }
  std::string text() {
    const Bytes b = bytes(kMaxText);
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
  }
  template <typename T>
  std::vector<T> list() {
    std::vector<T> v(count(kMaxItems));
    for (T& x : v) x = get<T>();
    return v;
  }
  Bytes span_in(Bytes message) {
    const uint64_t offset = get<uint64_t>(), size = get<uint64_t>();
    if (size == 0) return message.subspan(std::min<uint64_t>(offset, message.size()), 0);  // as in process
    if (offset > message.size() || size > message.size() - offset) {
      fail(RejectReason::kMalformed,
           "hdf5 parser reply: bytes " + std::to_string(offset) + "+" + std::to_string(size) + " outside the message");
    }
    return message.subspan(offset, size);
  }
  bool done() const { return at_ == in_.size(); }

 private:
  Bytes in_;
  uint64_t at_ = 0;
};

void put_dataset(Writer& w, const Hdf5Dataset& d, Bytes message) {
  w.put_text(d.path);
  w.put<uint8_t>(d.dtype.has_value());
  w.put<uint8_t>(d.dtype ? static_cast<uint8_t>(d.dtype->dtype) : 0);
  w.put<uint8_t>(d.dtype && d.dtype->big_endian);
  w.put_text(d.type_text);
  w.put_list(d.shape);
  w.put_list(d.chunk_shape);
  w.put<uint64_t>(d.filters.size());
  for (const Hdf5Filter& f : d.filters) {
    w.put<int32_t>(f.id);
    w.put<uint32_t>(f.flags);
    w.put_list(f.cd_values);
  }
  w.put<uint8_t>(d.has_chunks);
  w.put<uint64_t>(d.chunks.size());
  for (const Hdf5Chunk& c : d.chunks) {
    w.put<uint64_t>(c.leading_index);
    w.put<uint32_t>(c.filter_mask);
    w.put<uint8_t>(c.stored);
    w.put_span(c.raw, message);
  }
  w.put<uint8_t>(d.has_contiguous);
  w.put_span(d.contiguous, message);
  w.put<uint8_t>(d.libhdf5_may_read);
  w.put<uint8_t>(d.has_whole);
  w.put_bytes(d.whole);
  w.put_text(d.whole_error);
}

Hdf5Dataset get_dataset(Reader& r, Bytes message) {
  Hdf5Dataset d;
  d.path = r.text();
  const bool typed = r.get<uint8_t>() != 0;
  const auto dtype = r.get<uint8_t>();
  const bool big = r.get<uint8_t>() != 0;
  if (typed) {
    if (dtype < static_cast<uint8_t>(shm::DType::kU8) || dtype > static_cast<uint8_t>(shm::DType::kF64))
      fail(RejectReason::kMalformed, "hdf5 parser reply: dtype");
    d.dtype = WireDType{static_cast<shm::DType>(dtype), big};
  }
  d.type_text = r.text();
  d.shape = r.list<uint64_t>();
  d.chunk_shape = r.list<uint64_t>();
  d.filters.resize(r.count(kMaxItems));
  for (Hdf5Filter& f : d.filters) {
    f.id = r.get<int32_t>();
    f.flags = r.get<uint32_t>();
    f.cd_values = r.list<unsigned>();
  }
  d.has_chunks = r.get<uint8_t>() != 0;
  d.chunks.resize(r.count(kMaxItems));
  for (Hdf5Chunk& c : d.chunks) {
    c.leading_index = r.get<uint64_t>();
    c.filter_mask = r.get<uint32_t>();
    c.stored = r.get<uint8_t>() != 0;
    c.raw = r.span_in(message);
  }
  d.has_contiguous = r.get<uint8_t>() != 0;
  d.contiguous = r.span_in(message);
  d.libhdf5_may_read = r.get<uint8_t>() != 0;
  d.has_whole = r.get<uint8_t>() != 0;
  const Bytes whole = r.bytes(UINT64_MAX);
  d.whole.assign(whole.begin(), whole.end());
  d.whole_error = r.text();
  return d;
}

}  // namespace

std::vector<std::byte> encode_catalog(const Hdf5Catalog& catalog, Bytes message) {
  Writer w;
  w.put<uint8_t>(kOk);
  w.put<uint64_t>(catalog.datasets.size());
  for (const Hdf5Dataset& d : catalog.datasets) put_dataset(w, d, message);
  return w.take();
}

std::vector<std::byte> encode_catalog_failure(RejectReason reason, const std::string& what) {
  Writer w;
  w.put<uint8_t>(kFailed);
  w.put<uint8_t>(static_cast<uint8_t>(reason));
  w.put_text(what);
  return w.take();
}

Hdf5Catalog decode_catalog(Bytes reply, Bytes message) {
  Reader r(reply);
  const auto status = r.get<uint8_t>();
  if (status == kFailed) {
    const auto reason = r.get<uint8_t>();
    const std::string what = r.text();
    if (reason >= static_cast<uint8_t>(RejectReason::kCount)) fail(RejectReason::kMalformed, what);
    fail(static_cast<RejectReason>(reason), what);
  }
  if (status != kOk) fail(RejectReason::kMalformed, "hdf5 parser reply: status " + std::to_string(status));
  Hdf5Catalog catalog;
  catalog.datasets.resize(r.count(kMaxItems));
  for (Hdf5Dataset& d : catalog.datasets) d = get_dataset(r, message);
  if (!r.done()) fail(RejectReason::kMalformed, "hdf5 parser reply: trailing bytes");
  return catalog;
}

}  // namespace peaknet::ingest
