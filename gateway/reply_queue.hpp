// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// reply_queue: answers made off the I/O threads (on the store's writer, or
// the store deadline's thread) go back to their connections through it, one
// batch at a time. Included by server.cpp only (it needs Asio).
#pragma once

#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "routes.hpp"

namespace fiskil::gateway {

// reply_target is a connection waiting for its answer.
class reply_target {
 public:
  virtual ~reply_target() = default;
  // on_reply runs on an I/O thread and sends reply on the connection.
  virtual void on_reply(http_reply reply) = 0;
};

// reply_queue collects answers from any thread and hands them to the I/O
// threads with one posted handler per batch: the first answer of a batch
// wakes an I/O thread, the ones that come before it runs ride along. A group
// commit of N deliveries costs one wake-up, not N. push is safe from any
// thread; the queue must outlive the handlers it posted (destroy it before
// the io_context).
class reply_queue {
 public:
  explicit reply_queue(boost::asio::io_context& ioc) : ioc_(ioc) {}
  reply_queue(const reply_queue&) = delete;
  reply_queue& operator=(const reply_queue&) = delete;

  // push queues reply for target, posting a drain unless one is pending.
  void push(std::shared_ptr<reply_target> target, http_reply reply) {
    bool post = false;
    {
      const std::lock_guard lock(mutex_);
      queue_.emplace_back(std::move(target), std::move(reply));
      post = !posted_;
      posted_ = true;
    }
    if (post) boost::asio::post(ioc_, [this] { drain(); });
  }

 private:
  using item = std::pair<std::shared_ptr<reply_target>, http_reply>;

  void drain() {
    thread_local std::vector<item> batch;  // its buffer is reused
    {
      const std::lock_guard lock(mutex_);
      batch.swap(queue_);
      posted_ = false;
    }
    for (item& i : batch) i.first->on_reply(std::move(i.second));
    batch.clear();
  }

  boost::asio::io_context& ioc_;
  std::mutex mutex_;
  std::vector<item> queue_;
  bool posted_ = false;
};

}  // namespace fiskil::gateway
