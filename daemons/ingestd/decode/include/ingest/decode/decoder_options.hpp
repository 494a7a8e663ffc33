#pragma once
// DecoderOptions: which arrays/datasets/keys carry what, limits, pad mode. Read from the
// `ingestd.decode` config object (strict: unknown keys are errors) or left at the defaults.
#include <cstdint>
#include <string>
#include <vector>

#include "common/config/config_node.hpp"

namespace peaknet::ingest {

enum class PadMode : uint8_t { kCenter, kBottomRight };
enum class ForcedFormat : uint8_t { kAuto, kNpz, kHdf5, kSimplonCbor };

struct DecoderOptions {
  ForcedFormat format = ForcedFormat::kAuto;  ///< "auto" sniffs every message

  // NumPy .npz member names (without ".npy").
  std::string npz_detector_key = "detector_data";
  std::string npz_timestamp_key = "timestamp";
  std::string npz_wavelength_key = "photon_wavelength";
  std::string npz_original_shape_key = "detector_data_original_shape";

  // HDF5 dataset paths, first existing wins. The detector falls back to the largest dataset of
  // rank 3 or 4 when none of the paths exists (lclstream-main root keys such as /epix10k2M.image).
  // "<detector path>_original_shape" is used when present.
  std::vector<std::string> hdf5_detector_paths = {"/data/data", "/entry/data/detector_data", "/detector_data"};
  bool hdf5_detector_fallback = true;
  std::vector<std::string> hdf5_timestamp_paths = {"/data/timestamp", "/timestamp"};
  std::vector<std::string> hdf5_wavelength_paths = {"/data/wavelength", "/wavelength", "/photon_wavelength",
                                                    "/SIOC:SYS0:ML00:AO192"};

  /// libhdf5 reads each HDF5 message's catalog in a child process per decode thread (it is not
  /// hardened against hostile images: a crash or hang there rejects that message only). false:
  /// in this process under one global lock, without the memfd copy (trusted producers only).
  bool hdf5_isolate = true;
  /// A catalog that takes longer kills its parser process and rejects the message (isolated only).
  uint32_t hdf5_parse_timeout_ms = 10000;
  /// Where the producer put the detector frame inside the padded frame (not on the wire).
  PadMode pad_mode = PadMode::kCenter;

  /// Cap on any decoded array (checked against declared sizes BEFORE allocating or inflating).
  uint64_t max_decoded_bytes = 2ull << 30;

  // Simplon CBOR: images that arrive before their run's start message are parked (copied).
  uint32_t simplon_hold_max_messages = 64;
  uint64_t simplon_hold_max_bytes = 256ull << 20;
  /// Used when no start message was seen (empty = park the images instead).
  std::vector<int64_t> simplon_default_shape;
  std::string simplon_default_dtype;  ///< numpy name ("float64", "uint16") or descr ("<f8")

  /// Keys: format, pad_mode, max_decoded_bytes, npz.{detector_key,timestamp_key,wavelength_key,
  /// original_shape_key}, hdf5.{detector_paths,detector_fallback,timestamp_paths,wavelength_paths,
  /// isolate,parse_timeout_ms},
  /// simplon.{hold_max_messages,hold_max_bytes,default_shape,default_dtype}. Calls finish().
  static DecoderOptions from_config(config::ConfigNode node);
};

}  // namespace peaknet::ingest
