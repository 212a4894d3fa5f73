// ChunkPool: a fixed set of equal upload buffers shared by streamed blob
// uploads (BlobUpload). It bounds the memory of every blob in flight
// together — count × chunk_bytes, whatever the number and size of the blobs —
// and an upload that finds no free buffer waits for one.
//
// The buffers are one anonymous mapping made at construction and unmapped at
// destruction, outside malloc: freed upload buffers are not kept in glibc's
// per-thread arenas (which is how a relay of 8 MiB strings grew with the
// number of blobs), and pages count in RSS only once written. A buffer
// returned keeps its pages (the next upload reuses them without faults).
//
//   ChunkPool pool(4 << 20, 8);
//   ChunkPool::Chunk c = pool.Take();  // blocks while all 8 are in use
//   std::memcpy(c.data(), ..., n);     // returned to the pool when c dies
#ifndef SHAPIN_COMMON_REGISTRY_CHUNK_POOL_H_
#define SHAPIN_COMMON_REGISTRY_CHUNK_POOL_H_

#include <cstddef>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace shapin::registry {

class ChunkPool {
 public:
  // A buffer of the pool, owned until destroyed (or moved from).
  class Chunk {
   public:
    Chunk() = default;
    Chunk(Chunk&& other) noexcept;
    Chunk& operator=(Chunk&& other) noexcept;
    ~Chunk();
    char* data() const { return data_; }
    size_t capacity() const { return capacity_; }
    explicit operator bool() const { return data_ != nullptr; }

   private:
    friend class ChunkPool;
    Chunk(ChunkPool* pool, char* data, size_t capacity)
        : pool_(pool), data_(data), capacity_(capacity) {}
    ChunkPool* pool_ = nullptr;
    char* data_ = nullptr;
    size_t capacity_ = 0;
  };

  // `count` buffers of `chunk_bytes` each (count ≥ 1). Aborts when the
  // mapping cannot be made (as an allocation failure would).
  ChunkPool(size_t chunk_bytes, int count);
  // Every Chunk must have been returned.
  ~ChunkPool();
  ChunkPool(const ChunkPool&) = delete;
  ChunkPool& operator=(const ChunkPool&) = delete;

  // A free buffer; waits until one is returned when none is.
  Chunk Take();
  size_t chunk_bytes() const { return chunk_bytes_; }
  int count() const { return count_; }
  // Buffers taken at most at once so far.
  int max_in_use() const;

 private:
  void Return(char* data);

  const size_t chunk_bytes_;
  const int count_;
  char* base_ = nullptr;
  size_t mapped_ = 0;
  mutable absl::Mutex mu_;
  std::vector<char*> free_ ABSL_GUARDED_BY(mu_);
  int max_in_use_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace shapin::registry

#endif  // SHAPIN_COMMON_REGISTRY_CHUNK_POOL_H_
