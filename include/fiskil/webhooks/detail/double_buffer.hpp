// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// double_buffer: a value read by many threads per request and replaced now
// and then, without a lock on the read side and without the heap.
//
// Two slots, an index naming the current one, and a count of readers per
// slot. A reader loads the index i, counts itself in on slot i, and loads
// the index again: if it still names i it reads slot i until it counts
// itself out, else it counts out and retries. A writer (one at a time,
// under a mutex) waits until no reader is counted on the other slot, writes
// it, and then makes it current.
//
// Why a reader never sees a slot being written (all operations on the index
// and the counts are sequentially consistent): the writer writes slot j
// only while the index names the other slot, after its load of count[j]
// read 0. A reader that reads slot j counted itself in on j, and its second
// load of the index, which followed that increment, named j. Had the
// increment come after the writer's load of count[j] (which read 0), the
// second load would come after the writer's store that made the other slot
// current, and would see that or a later index: j only once the writer has
// published j, that is after it finished writing. Had the increment come
// before, the writer would have read a count above 0 and waited. Readers
// never wait for writers; a writer waits for readers of the old slot only,
// each of which holds it for one request.
#pragma once

#include <atomic>
#include <mutex>
#include <thread>

namespace fiskil::webhooks::detail {

template <class Value>
class double_buffer {
 public:
  explicit double_buffer(const Value& initial) noexcept : slots_{initial, initial} {}

  // Moving is not thread-safe: move only before sharing.
  double_buffer(double_buffer&& other) noexcept
      : slots_{other.slots_[other.current_.load()], other.slots_[other.current_.load()]} {}
  double_buffer& operator=(double_buffer&& other) noexcept {
    const unsigned from = other.current_.load();
    slots_[0] = other.slots_[from];
    slots_[1] = other.slots_[from];
    current_.store(0);
    return *this;
  }
  double_buffer(const double_buffer&) = delete;
  double_buffer& operator=(const double_buffer&) = delete;
  ~double_buffer() = default;

  // reader is one read of the current value; the value stays as it is for
  // as long as the reader lives.
  class reader {
   public:
    reader(const reader&) = delete;
    reader& operator=(const reader&) = delete;
    ~reader() { count_.fetch_sub(1); }
    [[nodiscard]] const Value& operator*() const noexcept { return value_; }
    [[nodiscard]] const Value* operator->() const noexcept { return &value_; }

   private:
    friend class double_buffer;
    reader(const Value& value, std::atomic<unsigned>& count) noexcept : value_(value), count_(count) {}
    const Value& value_;
    std::atomic<unsigned>& count_;
  };

  [[nodiscard]] reader read() const noexcept {
    for (;;) {
      const unsigned i = current_.load();
      readers_[i].fetch_add(1);
      if (current_.load() == i) return reader{slots_[i], readers_[i]};
      readers_[i].fetch_sub(1);
    }
  }

  // update makes change(copy of the current value) the current value.
  template <class Change>
  void update(Change&& change) noexcept {
    const std::lock_guard<std::mutex> one_writer(writer_);
    const unsigned now = current_.load();
    const unsigned next = 1 - now;
    while (readers_[next].load() != 0) std::this_thread::yield();
    slots_[next] = slots_[now];
    change(slots_[next]);
    current_.store(next);
  }

 private:
  Value slots_[2];
  // The index, read by every request, and the counts, written by every
  // request, on cache lines of their own.
  alignas(64) std::atomic<unsigned> current_{0};
  alignas(64) mutable std::atomic<unsigned> readers_[2] = {0, 0};
  alignas(64) std::mutex writer_;
};

}  // namespace fiskil::webhooks::detail
