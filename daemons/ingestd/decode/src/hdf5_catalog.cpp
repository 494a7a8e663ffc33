#include "hdf5_catalog.hpp"

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>

#include <hdf5.h>

#include "byte_io.hpp"
#include "decode_error.hpp"
#include "ingest/decode/hdf5_lock_stats.hpp"
#include "shm/event_clock.hpp"

namespace peaknet::ingest {
namespace {

constexpr size_t kMaxDatasets = 4096;
constexpr int kMaxRank = 32;
/// Larger chunk grids are refused: listing each chunk costs a lookup under the lock (lclstreamer
/// writes one chunk per event; 1920x1920 frames in 128x128 tiles are 225 chunks per event).
constexpr uint64_t kMaxListedChunks = 1 << 14;

/// libhdf5 (and its HL library, which is not thread-safe) is used by one thread at a time.
std::mutex& hdf5_mutex() {
  static std::mutex m;
  return m;
}

std::atomic<uint64_t> lock_acquisitions{0}, lock_held_ns{0}, lock_wait_ns{0};

using shm::steady_ns;

/// The libhdf5 lock, timed (Hdf5LockStats).
class Hdf5Lock {
 public:
  Hdf5Lock() : requested_(steady_ns()), lock_(hdf5_mutex()), acquired_(steady_ns()) {
    lock_wait_ns.fetch_add(acquired_ - requested_, std::memory_order_relaxed);
    lock_acquisitions.fetch_add(1, std::memory_order_relaxed);
  }
  ~Hdf5Lock() { lock_held_ns.fetch_add(steady_ns() - acquired_, std::memory_order_relaxed); }
  Hdf5Lock(const Hdf5Lock&) = delete;
  Hdf5Lock& operator=(const Hdf5Lock&) = delete;

 private:
  uint64_t requested_;
  std::lock_guard<std::mutex> lock_;
  uint64_t acquired_;
};

class H5Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  H5Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~H5Handle() {
    if (id_ >= 0) closer_(id_);
  }
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_;
  Closer closer_;
};

herr_t collect_error(unsigned n, const H5E_error2_t* err, void* data) {
  auto* text = static_cast<std::string*>(data);
  if (n < 8 && err->desc) text->append(text->empty() ? "" : "; ").append(err->desc);
  return 0;
}

std::string hdf5_error_text() {
  std::string text;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_error, &text);
  H5Eclear2(H5E_DEFAULT);
  return text;
}

// Object visit with basic fields only (the type): the default also reads every object header's
// attribute info. 1.10 (Debian 12): H5Ovisit2 + H5O_info_t; 1.12+: H5Ovisit3 + H5O_info2_t.
#if H5_VERSION_GE(1, 12, 0)
using ObjectInfo = H5O_info2_t;
#else
using ObjectInfo = H5O_info_t;
#endif

herr_t collect_dataset(hid_t, const char* name, const ObjectInfo* info, void* data) {
  auto* names = static_cast<std::vector<std::string>*>(data);
  if (info->type == H5O_TYPE_DATASET) names->push_back(std::string("/") + name);
  return names->size() >= kMaxDatasets ? 1 : 0;
}

std::optional<WireDType> map_type(hid_t tid, std::string& text) {
  const H5T_class_t cls = H5Tget_class(tid);
  const size_t size = H5Tget_size(tid);
  const bool big = H5Tget_order(tid) == H5T_ORDER_BE;
  std::optional<WireDType> t;
  if (cls == H5T_INTEGER) {
    const bool is_signed = H5Tget_sign(tid) == H5T_SGN_2;
    char descr[4] = {'<', is_signed ? 'i' : 'u', static_cast<char>('0' + size), 0};
    if (size <= 8) t = parse_numpy_descr(descr);
  } else if (cls == H5T_FLOAT && (size == 4 || size == 8)) {
    char descr[4] = {'<', 'f', static_cast<char>('0' + size), 0};
    t = parse_numpy_descr(descr);
  }
  if (t) t->big_endian = big && size > 1;
  else text = "HDF5 type class " + std::to_string(static_cast<int>(cls)) + " size " + std::to_string(size);
  return t;
}

hid_t native_type(const WireDType& t) {
  using shm::DType;
  switch (t.dtype) {
    case DType::kU8:
      return H5T_NATIVE_UINT8;
    case DType::kU16:
      return H5T_NATIVE_UINT16;
    case DType::kU32:
      return H5T_NATIVE_UINT32;
    case DType::kU64:
      return H5T_NATIVE_UINT64;
    case DType::kI8:
      return H5T_NATIVE_INT8;
    case DType::kI16:
      return H5T_NATIVE_INT16;
    case DType::kI32:
      return H5T_NATIVE_INT32;
    case DType::kI64:
      return H5T_NATIVE_INT64;
    case DType::kF32:
      return H5T_NATIVE_FLOAT;
    case DType::kF64:
      return H5T_NATIVE_DOUBLE;
  }
  return H5T_NATIVE_UINT8;
}

void describe_layout(hid_t did, Hdf5Dataset& ds, std::span<const std::byte> message, uint64_t userblock,
                     uint64_t max_bytes) {
  H5Handle dcpl(H5Dget_create_plist(did), H5Pclose);
  if (!dcpl.valid()) return;
  const int nfilters = H5Pget_nfilters(dcpl.get());
  for (int i = 0; i < nfilters && i < 32; ++i) {
    Hdf5Filter f;
    unsigned cd[64];
    size_t n = 64;
    char name[64];
    unsigned config = 0;
    f.id = H5Pget_filter2(dcpl.get(), static_cast<unsigned>(i), &f.flags, &n, cd, sizeof(name), name, &config);
    f.cd_values.assign(cd, cd + std::min<size_t>(n, 64));
    ds.filters.push_back(std::move(f));
  }
  const H5D_layout_t layout = H5Pget_layout(dcpl.get());
  const int rank = static_cast<int>(ds.shape.size());
  if (layout == H5D_COMPACT) {  // values inside the object header: H5Dread copies them out
    // libhdf5 1.10.8 reads through a NULL buffer when the stored size disagrees (fuzzing found it).
    const hsize_t stored = H5Dget_storage_size(did);
    const uint64_t want = ds.dtype ? ds.elements() * ds.dtype->size() : 0;
    ds.libhdf5_may_read = stored == want && want > 0;
    if (!ds.libhdf5_may_read) {
      ds.whole_error = "compact storage of " + std::to_string(stored) + " bytes for " + std::to_string(want);
    }
    return;
  }
  if (layout == H5D_VIRTUAL) {  // values in other files named by the message: never opened
    ds.whole_error = "virtual dataset";
    return;
  }
  if (layout == H5D_CONTIGUOUS && ds.dtype) {
    if (H5Pget_external_count(dcpl.get()) != 0) {  // raw data in files named by the message: never opened
      ds.whole_error = "values in external files";
      return;
    }
    const haddr_t addr = H5Dget_offset(did);
    if (addr == HADDR_UNDEF) {  // never written: libhdf5 returns fill values without touching the image
      ds.libhdf5_may_read = true;
      return;
    }
    const hsize_t stored = H5Dget_storage_size(did);
    const uint64_t want = ds.elements() * ds.dtype->size();
    if (stored == want && userblock + addr <= message.size() && want <= message.size() - userblock - addr) {
      ds.contiguous = message.subspan(userblock + addr, want);
      ds.has_contiguous = true;
    } else {
      // libhdf5 1.10 dereferences NULL reading such storage (fuzzing found it): refused, not read.
      ds.whole_error = "contiguous storage of " + std::to_string(stored) + " bytes at " + std::to_string(addr) +
                       " does not hold " + std::to_string(want) + " bytes inside the message";
    }
    return;
  }
  if (layout != H5D_CHUNKED || rank == 0 || !ds.dtype) return;
  hsize_t cdims[kMaxRank];
  if (H5Pget_chunk(dcpl.get(), rank, cdims) != rank) return;
  ds.chunk_shape.assign(cdims, cdims + rank);
  for (uint64_t c : ds.chunk_shape) {
    if (c == 0) return;
  }
  // A decoded chunk is staged in memory when it does not map onto whole rows: cap it like any array.
  if (ds.chunk_bytes() > max_bytes) {
    ds.whole_error = "chunk of " + std::to_string(ds.chunk_bytes()) + " bytes, over the limit";
    return;
  }
  const std::vector<uint64_t> grid = ds.chunk_grid();
  uint64_t count = 1;
  for (uint64_t g : grid) {
    if (g == 0) {  // no values: nothing to list or read
      ds.has_chunks = true;
      return;
    }
    if (g > kMaxListedChunks || count * g > kMaxListedChunks) {  // both <= 2^14: no overflow
      ds.whole_error = "chunk grid of more than " + std::to_string(kMaxListedChunks) + " chunks";
      return;
    }
    count *= g;
  }
  // Every grid position in C order, looked up by coordinate (H5Dget_chunk_info by index rescans the
  // index on each call in 1.10). lclstreamer writes every chunk: one never written is listed as such.
  ds.chunks.reserve(count);
  std::vector<uint64_t> at(grid.size(), 0);
  hsize_t offset[kMaxRank];
  for (uint64_t k = 0; k < count; ++k) {
    for (int d = 0; d < rank; ++d) offset[d] = at[static_cast<size_t>(d)] * cdims[d];
    unsigned mask = 0;
    haddr_t addr = HADDR_UNDEF;
    hsize_t size = 0;
    if (H5Dget_chunk_info_by_coord(did, offset, &mask, &addr, &size) < 0) {
      ds.whole_error = "chunk index unreadable: " + hdf5_error_text();
      ds.chunks.clear();
      return;
    }
    if (addr == HADDR_UNDEF) {
      ds.chunks.push_back(Hdf5Chunk{offset[0], 0, {}, false});
    } else if (userblock + addr > message.size() || size > message.size() - userblock - addr) {
      fail(RejectReason::kTruncated, ds.path + ": chunk " + std::to_string(k) + " lies outside the message");
    } else {
      ds.chunks.push_back(Hdf5Chunk{offset[0], mask, message.subspan(userblock + addr, size)});
    }
    for (int d = rank - 1; d >= 0 && ++at[static_cast<size_t>(d)] == grid[static_cast<size_t>(d)]; --d) {
      at[static_cast<size_t>(d)] = 0;
    }
  }
  ds.has_chunks = true;
}

// File-image callbacks that hand the message buffer to the core driver without copying it
// (read-only open). Replaces H5LTopen_file_image, which leaks 72 bytes per open in HDF5 1.10.8.
void* image_malloc(size_t, H5FD_file_image_op_t, void* udata) {
  return const_cast<std::byte*>(static_cast<std::span<const std::byte>*>(udata)->data());
}
void* image_memcpy(void* dest, const void* src, size_t size, H5FD_file_image_op_t, void*) {
  if (dest != src) std::memmove(dest, src, size);  // never happens: every buffer is the message
  return dest;
}
void* image_realloc(void*, size_t, H5FD_file_image_op_t, void*) { return nullptr; }
herr_t image_free(void*, H5FD_file_image_op_t, void*) { return 0; }
void* udata_copy(void* udata) { return udata; }
herr_t udata_free(void*) { return 0; }

hid_t open_image(std::span<const std::byte>& message) {
  static uint64_t counter = 0;  // unique names: the library tracks open files by name
  H5Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5FD_file_image_callbacks_t callbacks{image_malloc, image_memcpy, image_realloc, image_free,
                                        udata_copy,   udata_free,   &message};
  if (!fapl.valid() || H5Pset_fapl_core(fapl.get(), 1 << 16, false) < 0 ||
      H5Pset_file_image_callbacks(fapl.get(), &callbacks) < 0 ||
      H5Pset_file_image(fapl.get(), const_cast<std::byte*>(message.data()), message.size()) < 0) {
    return -1;
  }
  const std::string name = "peaknet_message_image_" + std::to_string(++counter);
  return H5Fopen(name.c_str(), H5F_ACC_RDONLY, fapl.get());
}

/// End-of-file address stored in the superblock (versions 0-3), 0 when unreadable.
uint64_t superblock_eof(std::span<const std::byte> m) {
  if (m.size() < 16) return 0;
  const auto version = std::to_integer<uint8_t>(m[8]);
  const auto offset_size = std::to_integer<uint8_t>(m[version <= 1 ? 13 : 9]);
  if (offset_size != 8 && offset_size != 4) return 0;
  const uint64_t base = version == 0 ? 24 : version == 1 ? 28 : 12;
  const uint64_t at = base + 2ull * offset_size;
  if (at + offset_size > m.size()) return UINT64_MAX;
  uint64_t eof = 0;
  for (int i = offset_size - 1; i >= 0; --i)
    eof = (eof << 8) | std::to_integer<uint8_t>(m[at + static_cast<uint64_t>(i)]);
  return eof;
}

}  // namespace

Hdf5LockStats hdf5_lock_stats() noexcept {
  return {lock_acquisitions.load(std::memory_order_relaxed), lock_held_ns.load(std::memory_order_relaxed),
          lock_wait_ns.load(std::memory_order_relaxed)};
}

uint64_t Hdf5Dataset::elements() const {
  uint64_t n = 1;
  for (uint64_t d : shape) n = checked_mul(n, d, path.c_str());
  return n;
}

uint64_t Hdf5Dataset::chunk_bytes() const {
  uint64_t n = dtype ? dtype->size() : 0;
  for (uint64_t c : chunk_shape) n = checked_mul(n, c, path.c_str());
  return n;
}

std::vector<uint64_t> Hdf5Dataset::chunk_grid() const {
  std::vector<uint64_t> grid(shape.size(), 0);
  for (size_t d = 0; d < shape.size() && d < chunk_shape.size(); ++d) {
    grid[d] = chunk_shape[d] == 0 ? 0 : (shape[d] + chunk_shape[d] - 1) / chunk_shape[d];
  }
  return grid;
}

uint64_t Hdf5Dataset::row_bytes() const {
  uint64_t n = dtype ? dtype->size() : 0;
  for (size_t d = 1; d < shape.size(); ++d) n = checked_mul(n, shape[d], path.c_str());
  return n;
}

const Hdf5Dataset* Hdf5Catalog::find(const std::string& path) const {
  for (const auto& d : datasets) {
    if (d.path == path) return &d;
  }
  return nullptr;
}

Hdf5Catalog read_hdf5_catalog(std::span<const std::byte> message, uint64_t max_bytes) {
  const Hdf5Lock lock;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors become values, not stderr noise
  if (message.size() < 64)
    fail(RejectReason::kTruncated, "hdf5: " + std::to_string(message.size()) + "-byte message holds no superblock");
  H5Handle file(open_image(message), H5Fclose);
  if (!file.valid()) {
    const std::string why = hdf5_error_text();
    const bool truncated = superblock_eof(message) > message.size() || why.find("truncated") != std::string::npos;
    fail(truncated ? RejectReason::kTruncated : RejectReason::kMalformed,
         "hdf5: file image of " + std::to_string(message.size()) + " bytes does not open" +
             (truncated ? " (superblock end-of-file lies beyond it)" : "") + (why.empty() ? "" : ": " + why));
  }
  uint64_t userblock = 0;
  {
    H5Handle fcpl(H5Fget_create_plist(file.get()), H5Pclose);
    hsize_t ub = 0;
    if (fcpl.valid() && H5Pget_userblock(fcpl.get(), &ub) >= 0) userblock = ub;
  }
  std::vector<std::string> names;
#if H5_VERSION_GE(1, 12, 0)
  const herr_t visited = H5Ovisit3(file.get(), H5_INDEX_NAME, H5_ITER_NATIVE, collect_dataset, &names, H5O_INFO_BASIC);
#else
  const herr_t visited = H5Ovisit2(file.get(), H5_INDEX_NAME, H5_ITER_NATIVE, collect_dataset, &names, H5O_INFO_BASIC);
#endif
  if (visited < 0) {
    fail(RejectReason::kMalformed, "hdf5: cannot list datasets: " + hdf5_error_text());
  }
  Hdf5Catalog catalog;
  for (const std::string& path : names) {
    H5Handle did(H5Dopen2(file.get(), path.c_str(), H5P_DEFAULT), H5Dclose);
    if (!did.valid()) continue;
    Hdf5Dataset ds;
    ds.path = path;
    H5Handle tid(H5Dget_type(did.get()), H5Tclose);
    ds.dtype = map_type(tid.get(), ds.type_text);
    H5Handle sid(H5Dget_space(did.get()), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(sid.get());
    if (rank < 0 || rank > kMaxRank) continue;
    hsize_t dims[kMaxRank];
    H5Sget_simple_extent_dims(sid.get(), dims, nullptr);
    ds.shape.assign(dims, dims + rank);
    try {
      (void)ds.elements();
      describe_layout(did.get(), ds, message, userblock, max_bytes);
      const bool chunked = !ds.chunk_shape.empty();
      if (ds.dtype && !chunked && ds.libhdf5_may_read && ds.whole_error.empty()) {
        const uint64_t bytes = checked_mul(ds.elements(), ds.dtype->size(), path.c_str());
        if (bytes > max_bytes) {
          ds.whole_error = "decodes to " + std::to_string(bytes) + " bytes, over the limit";
        } else {
          ds.whole.resize(bytes);
          if (H5Dread(did.get(), native_type(*ds.dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT, ds.whole.data()) < 0) {
            ds.whole_error = hdf5_error_text();
            ds.whole.clear();
          } else {
            ds.has_whole = true;
          }
        }
      }
    } catch (const DecodeError&) {
      H5Eclear2(H5E_DEFAULT);
      throw;
    }
    catalog.datasets.push_back(std::move(ds));
  }
  return catalog;
}

}  // namespace peaknet::ingest
