#include "model/safetensors.hpp"

#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>

namespace peaknet::model {
namespace {

const std::map<std::string, torch::ScalarType>& dtype_names() {
  static const std::map<std::string, torch::ScalarType> names{
      {"F64", torch::kDouble}, {"F32", torch::kFloat}, {"F16", torch::kHalf},  {"BF16", torch::kBFloat16},
      {"I64", torch::kLong},   {"I32", torch::kInt},   {"I16", torch::kShort}, {"I8", torch::kChar},
      {"U8", torch::kByte},    {"BOOL", torch::kBool}};
  return names;
}

std::string dtype_name(torch::ScalarType t) {
  for (const auto& [name, type] : dtype_names())
    if (type == t) return name;
  throw std::runtime_error(std::string("safetensors: cannot store dtype ") + c10::toString(t));
}

constexpr uint64_t kMaxHeaderBytes = 100u << 20;  // same limit as the reference implementation

}  // namespace

NamedTensors read_safetensors(const std::string& path) {
  const auto fail = [&](const std::string& what) -> std::runtime_error {
    return std::runtime_error("safetensors file '" + path + "': " + what);
  };
  std::ifstream in(path, std::ios::binary);
  if (!in) throw fail("cannot open (" + std::string(std::strerror(errno)) + ")");
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  unsigned char len_bytes[8];
  if (file_size < 8 || !in.read(reinterpret_cast<char*>(len_bytes), 8)) throw fail("shorter than 8 bytes");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];
  if (header_len > kMaxHeaderBytes || header_len > file_size - 8)
    throw fail("header length " + std::to_string(header_len) + " exceeds the file size " + std::to_string(file_size));
  std::string header_text(header_len, '\0');
  if (!in.read(header_text.data(), static_cast<std::streamsize>(header_len))) throw fail("truncated header");
  nlohmann::ordered_json header;
  try {
    header = nlohmann::ordered_json::parse(header_text);
  } catch (const std::exception& e) {
    throw fail(std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) throw fail("header is not a JSON object");
  const uint64_t data_begin = 8 + header_len;
  const uint64_t data_size = file_size - data_begin;

  NamedTensors out;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    const auto bad = [&](const std::string& what) { return fail("tensor '" + name + "': " + what); };
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
      throw bad("entry needs dtype, shape and data_offsets");
    const auto& dt = entry["dtype"];
    if (!dt.is_string() || !dtype_names().count(dt.get<std::string>())) throw bad("unsupported dtype " + dt.dump());
    const torch::ScalarType type = dtype_names().at(dt.get<std::string>());
    std::vector<int64_t> shape;
    int64_t numel = 1;
    for (const auto& d : entry["shape"]) {
      if (!d.is_number_unsigned()) throw bad("shape entries must be non-negative integers: " + entry["shape"].dump());
      shape.push_back(d.get<int64_t>());
      numel *= shape.back();
    }
    const auto& off = entry["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw bad("data_offsets must be [begin, end]: " + off.dump());
    const auto begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    const uint64_t nbytes = static_cast<uint64_t>(numel) * c10::elementSize(type);
    if (end < begin || end > data_size || end - begin != nbytes)
      throw bad("data_offsets " + off.dump() + " do not match shape/dtype (" + std::to_string(nbytes) +
                " bytes) within " + std::to_string(data_size) + " data bytes");
    torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(type));
    in.seekg(static_cast<std::streamoff>(data_begin + begin));
    if (nbytes > 0 && !in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(nbytes)))
      throw bad("read failed");
    out.emplace_back(name, std::move(t));
  }
  return out;
}

void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> cpu;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    cpu.push_back(t.detach().to(torch::kCPU).contiguous());
    const uint64_t nbytes = cpu.back().numel() * cpu.back().element_size();
    header[name] = {{"dtype", dtype_name(t.scalar_type())},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keep the data 8-byte aligned
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("safetensors: cannot create '" + path + "' (" + std::strerror(errno) + ")");
  unsigned char len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<unsigned char>((text.size() >> (8 * i)) & 0xff);
  out.write(reinterpret_cast<const char*>(len_bytes), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const auto& t : cpu)
    out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
  if (!out.flush()) throw std::runtime_error("safetensors: write to '" + path + "' failed");
}

const torch::Tensor& find_tensor(const NamedTensors& tensors, const std::string& name, const std::string& source) {
  for (const auto& [n, t] : tensors)
    if (n == name) return t;
  std::string names;
  for (const auto& [n, t] : tensors) {
    if (!names.empty()) names += ", ";
    names += n;
  }
  throw std::runtime_error(source + ": no tensor named '" + name + "' (has: " + names + ")");
}

}  // namespace peaknet::model
