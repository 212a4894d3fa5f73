#include "common/registry/chunk_pool.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace shapin::registry {

ChunkPool::Chunk::Chunk(Chunk&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      data_(std::exchange(other.data_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)) {}

ChunkPool::Chunk& ChunkPool::Chunk::operator=(Chunk&& other) noexcept {
  if (this != &other) {
    if (pool_ != nullptr) pool_->Return(data_);
    pool_ = std::exchange(other.pool_, nullptr);
    data_ = std::exchange(other.data_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

ChunkPool::Chunk::~Chunk() {
  if (pool_ != nullptr) pool_->Return(data_);
}

ChunkPool::ChunkPool(size_t chunk_bytes, int count)
    : chunk_bytes_(std::max<size_t>(1, chunk_bytes)),
      count_(std::max(1, count)) {
  mapped_ = chunk_bytes_ * static_cast<size_t>(count_);
  void* p = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    std::fprintf(stderr, "ChunkPool: cannot map %zu bytes\n", mapped_);
    std::abort();
  }
  base_ = static_cast<char*>(p);
  absl::MutexLock lock(&mu_);
  for (int i = count_ - 1; i >= 0; --i) {
    free_.push_back(base_ + static_cast<size_t>(i) * chunk_bytes_);
  }
}

ChunkPool::~ChunkPool() { munmap(base_, mapped_); }

ChunkPool::Chunk ChunkPool::Take() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](std::vector<char*>* free) { return !free->empty(); }, &free_));
  char* data = free_.back();
  free_.pop_back();
  max_in_use_ = std::max(max_in_use_, count_ - static_cast<int>(free_.size()));
  return Chunk(this, data, chunk_bytes_);
}

int ChunkPool::max_in_use() const {
  absl::MutexLock lock(&mu_);
  return max_in_use_;
}

void ChunkPool::Return(char* data) {
  absl::MutexLock lock(&mu_);
  free_.push_back(data);
}

}  // namespace shapin::registry
