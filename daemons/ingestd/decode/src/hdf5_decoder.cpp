// HDF5 file images (HDF5BinarySerializer): slac-main (/data/data, /data/timestamp, ...) and
// lclstream-main root datasets, by configurable paths with fallbacks. Only the catalog (where each
// dataset's values lie in the message) is read by libhdf5, in the decoder's parser process (or, in
// process, under libhdf5's lock); the values are then copied / decompressed here, in parallel
// across decode threads, straight into the slots.
#include <chrono>
#include <cstring>
#include <memory>

#include "byte_io.hpp"
#include "format_decoders.hpp"
#include "hdf5_catalog.hpp"
#include "hdf5_chunk_grid.hpp"
#include "hdf5_filters.hpp"
#include "hdf5_parser_process.hpp"

namespace peaknet::ingest {
namespace {

struct Selection {
  const Hdf5Dataset* detector = nullptr;
  const Hdf5Dataset* timestamp = nullptr;
  const Hdf5Dataset* wavelength = nullptr;
  const Hdf5Dataset* original_shape = nullptr;
  const Hdf5Dataset* producer_id = nullptr;
  const Hdf5Dataset* producer_seq = nullptr;
};

template <typename Find>
const Hdf5Dataset* first_existing(const std::vector<std::string>& paths, Find&& find) {
  for (const auto& p : paths) {
    if (const Hdf5Dataset* d = find(p.empty() || p[0] == '/' ? p : "/" + p)) return d;
  }
  return nullptr;
}

Selection select(const std::vector<Hdf5Dataset>& all, const DecoderOptions& opt) {
  auto find = [&](const std::string& path) -> const Hdf5Dataset* {
    for (const auto& d : all) {
      if (d.path == path) return &d;
    }
    return nullptr;
  };
  Selection s;
  s.detector = first_existing(opt.hdf5_detector_paths, find);
  if (!s.detector && opt.hdf5_detector_fallback) {  // the largest frame-like dataset
    for (const auto& d : all) {
      if ((d.shape.size() == 3 || d.shape.size() == 4) && d.dtype &&
          (!s.detector || d.elements() > s.detector->elements())) {
        s.detector = &d;
      }
    }
  }
  s.timestamp = first_existing(opt.hdf5_timestamp_paths, find);
  s.wavelength = first_existing(opt.hdf5_wavelength_paths, find);
  if (s.detector) s.original_shape = find(s.detector->path + "_original_shape");
  s.producer_id = first_existing({std::string("/") + kProducerIdKey, std::string("/data/") + kProducerIdKey}, find);
  s.producer_seq = first_existing({std::string("/") + kProducerSeqKey, std::string("/data/") + kProducerSeqKey}, find);
  return s;
}

/// Rows [first, first + rows) of a dataset into dst (stored byte order).
void read_rows(const Hdf5Dataset& ds, uint64_t first, uint64_t rows, std::byte* dst, DecodeScratch& scratch) {
  const uint64_t row = ds.row_bytes();
  if (ds.has_whole) {
    std::memcpy(dst, ds.whole.data() + first * row, rows * row);
  } else if (ds.has_contiguous) {
    std::memcpy(dst, ds.contiguous.data() + first * row, rows * row);
  } else if (ds.has_chunks) {
    read_chunked_rows(ds, first, rows, dst, scratch);
  } else {
    fail(RejectReason::kUnsupportedFilter,
         ds.path + ": layout not readable" + (ds.whole_error.empty() ? "" : ": " + ds.whole_error));
  }
}

AuxArray read_all(const Hdf5Dataset& ds, const DecoderOptions& opt, DecodeScratch& scratch) {
  if (!ds.dtype) fail(RejectReason::kUnsupportedDtype, ds.path + ": " + ds.type_text);
  const uint64_t bytes = checked_mul(ds.elements(), ds.dtype->size(), ds.path.c_str());
  if (bytes > opt.max_decoded_bytes) {
    fail(RejectReason::kOverSizeLimit, ds.path + " decodes to " + std::to_string(bytes) + " bytes");
  }
  check_filters_supported(ds);
  AuxArray a;
  a.name = ds.path;
  a.dtype = *ds.dtype;
  a.shape = ds.shape;
  a.bytes.resize(bytes);
  if (bytes > 0) {
    const uint64_t rows = ds.shape.empty() ? 1 : ds.shape[0];
    if (ds.shape.empty() && !ds.has_whole && !ds.has_contiguous)
      fail(RejectReason::kMalformed, ds.path + ": scalar not readable");
    if (ds.shape.empty()) std::memcpy(a.bytes.data(), ds.has_whole ? ds.whole.data() : ds.contiguous.data(), bytes);
    else read_rows(ds, 0, rows, a.bytes.data(), scratch);
  }
  if (a.dtype.big_endian && !ds.has_whole) byteswap_inplace(a.bytes.data(), a.count(), a.dtype.size());
  a.dtype.big_endian = false;
  return a;
}

std::optional<AuxArray> read_optional(const Hdf5Dataset* ds, const DecoderOptions& opt, DecodeScratch& s) {
  if (!ds || !ds->dtype) return std::nullopt;
  return read_all(*ds, opt, s);
}

/// Every dataset, with whole reads of the odd layouts libhdf5 may read (rare and small: scalars,
/// compact; the size limit still applies). In the decoder's parser process unless trusted.
Hdf5Catalog catalog_of(Bytes message, const DecoderOptions& opt, DecodeScratch& scratch) {
  if (!opt.hdf5_isolate) {
    return read_hdf5_catalog(message, opt.max_decoded_bytes);
  }
  if (!scratch.hdf5_parser) scratch.hdf5_parser = std::make_unique<Hdf5ParserProcess>();
  return scratch.hdf5_parser->read_catalog(message, opt.max_decoded_bytes,
                                           std::chrono::milliseconds(opt.hdf5_parse_timeout_ms));
}

}  // namespace

void decode_hdf5(Bytes message, DecodeCall& call) {
  const DecoderOptions& opt = call.options;
  const Hdf5Catalog catalog = catalog_of(message, opt, call.scratch);
  const Selection sel = select(catalog.datasets, opt);
  if (!sel.detector) {
    call.result.no_image = true;
    call.result.detail = "hdf5: no detector dataset (" + std::to_string(catalog.datasets.size()) + " datasets)";
    return;
  }
  const Hdf5Dataset& det = *sel.detector;
  if (!det.dtype) fail(RejectReason::kUnsupportedDtype, det.path + ": " + det.type_text);
  BatchPlan plan =
      plan_batch(det.path, *det.dtype, det.shape, read_optional(sel.original_shape, opt, call.scratch), true, opt);
  check_filters_supported(det);
  plan.timestamp = read_optional(sel.timestamp, opt, call.scratch);
  plan.wavelength = read_optional(sel.wavelength, opt, call.scratch);
  plan.producer_id = read_optional(sel.producer_id, opt, call.scratch);
  plan.producer_seq = read_optional(sel.producer_seq, opt, call.scratch);
  const uint64_t rows_per_event = det.shape[0] / plan.events;
  const uint64_t bytes = plan.event_bytes();
  for (uint32_t i = 0; i < plan.events; ++i) {
    emit_event(
        call.sink, event_meta(plan, i, opt), bytes, det.dtype->big_endian && !det.has_whole,
        [&](std::byte* dst) {
          if (dst) read_rows(det, i * rows_per_event, rows_per_event, dst, call.scratch);
        },
        call.result);
  }
}

std::vector<AuxArray> hdf5_all_arrays(Bytes message, const DecoderOptions& options, DecodeScratch& s) {
  const Hdf5Catalog catalog = catalog_of(message, options, s);
  std::vector<AuxArray> out;
  for (const auto& ds : catalog.datasets) {
    if (ds.dtype) out.push_back(read_all(ds, options, s));
  }
  return out;
}

}  // namespace peaknet::ingest
