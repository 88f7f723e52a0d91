// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// fiskil-gateway: receives Fiskil webhook deliveries over HTTP, verifies
// them with the library's receiver, keeps each accepted one durably, and
// only then answers 200. docs/gateway.md.
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "admission.hpp"
#include "config.hpp"
#include "config_file.hpp"
#include "file_limit.hpp"
#include "forwarder.hpp"
#include "in_flight.hpp"
#include "jetstream_command.hpp"
#include "journal_command.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "reload.hpp"
#include "routes.hpp"
#include "secret_file.hpp"
#include "server.hpp"
#include "signals.hpp"
#include "storage_factory.hpp"
#include "systemd_notify.hpp"

namespace gw = fiskil::gateway;

int main(int argc, char** argv) {
  // fiskil-gateway journal ...: the journal's commands (docs/forward.md).
  if (argc > 1 && std::string_view(argv[1]) == "journal") return gw::run_journal_command(argc - 1, argv + 1);
  // fiskil-gateway jetstream ...: the same for forwarding from JetStream.
  if (argc > 1 && std::string_view(argv[1]) == "jetstream") return gw::run_jetstream_command(argc - 1, argv + 1);
  gw::block_signals();
  gw::config flags;
  std::string message;
  const std::vector<std::string> arguments(argv + 1, argv + argc);
  gw::file_flags from_file;
  switch (gw::parse_arguments(arguments, flags, message, &from_file)) {
    case gw::parse_result::help:
      std::fputs(gw::help_text(), stdout);
      return 0;
    case gw::parse_result::error:
      std::fprintf(stderr, "fiskil-gateway: %s\n", message.c_str());
      return 64;
    case gw::parse_result::run:
      break;
  }
  gw::set_log_level(flags.log_level);
  gw::set_log_format(flags.log_format);
  // Secret files that other users may read are refused before anything
  // starts (SIGHUP later logs the refusal and keeps the old secret).
  for (const std::string* path : gw::secret_paths(flags)) {
    if (gw::secret_file_exposed(*path, message)) {
      std::fprintf(stderr, "fiskil-gateway: %s\n", message.c_str());
      return 64;
    }
  }

  std::string raised;
  if (!gw::ensure_file_limit(flags.max_connections, raised, message)) {
    std::fprintf(stderr, "fiskil-gateway: %s\n", message.c_str());
    return 64;
  }
  if (!raised.empty()) gw::log("info", "file_limit_raised", {{"rlimit_nofile", raised}});
  if (!flags.forward.url.empty() && flags.empty_server) {
    std::fprintf(stderr, "fiskil-gateway: --forward needs a store (not --empty-server)\n");
    return 64;
  }

  gw::metrics counters(gw::admission::outcome_names(), gw::admission::event_names());
  std::unique_ptr<gw::admission> admission;
  std::unique_ptr<gw::storage> store;
  if (!flags.empty_server) {
    gw::admission_settings settings{flags.secret_files, flags.allow,          flags.allow_files,
                                    flags.trusted_proxy, flags.max_age,       flags.max_future_skew,
                                    flags.message_capacity, flags.consent_capacity, flags.max_body_size};
    admission = gw::admission::create(settings, message);
    if (!admission) {
      std::fprintf(stderr, "fiskil-gateway: %s\n", message.c_str());
      return 1;
    }
    store = gw::make_storage(flags, message);
    if (!store) {
      std::fprintf(stderr, "fiskil-gateway: %s\n", message.c_str());
      return 1;
    }
    admission->attach(*store);
    admission->warm();
  }
  // --forward: a store consumer on threads of its own (docs/forward.md).
  std::unique_ptr<gw::forwarder> forwarding;
  if (!flags.forward.url.empty()) {
    if (flags.storage == "sqlite")
      forwarding = gw::forwarder::start(
          flags.forward, flags.journal,
          std::chrono::duration_cast<std::chrono::milliseconds>(flags.journal_busy_timeout), message);
    else
      forwarding = gw::start_jetstream_forwarder(flags, message);
    if (!forwarding) {
      std::fprintf(stderr, "fiskil-gateway: %s\n", message.c_str());
      if (store) store->stop();
      return 1;
    }
  }

  // Made before the routes and destroyed after the store stops: the store's
  // last answers settle deliveries in it.
  std::unique_ptr<gw::in_flight> flights;
  if (!flags.empty_server) flights = std::make_unique<gw::in_flight>(flags.store_timeout);
  gw::routes_options route_options;
  route_options.path = flags.path;
  route_options.ready_pending_age = flags.ready_pending_age;
  route_options.refusal_logs_per_second = flags.refusal_log_rate;
  // SIGHUP (docs/operations.md, "Reloading"): the steps, those that can fail first.
  gw::reloader reloads(arguments, from_file);
  reloads.add({"secrets and allowlist", {"secret-file", "allow", "allow-file"},
               [&admission](const gw::config& next, std::string& error) {
                 return !admission || admission->reload_files(next.secret_files, next.allow, next.allow_files, error);
               }});
  // The TLS step (keys tls-cert, tls-key) is added once the server exists.
  reloads.add({"log level", {"log-level"}, [](const gw::config& next, std::string&) {
                 return gw::set_log_level(next.log_level);
               }});
  reloads.add({"forward secret", {}, [&forwarding](const gw::config&, std::string&) {
                 if (forwarding) forwarding->reload();  // logs its own failure and keeps the old secret
                 return true;
               }});
  route_options.more_metrics = [&forwarding, &reloads](std::string& out) {
    if (forwarding) forwarding->write_metrics(out);
    reloads.write_metrics(out);
  };
  route_options.max_pending_bytes = flags.max_pending_bytes;
  gw::routes handler(route_options, admission.get(), store.get(), flights.get(), counters);
  gw::server_options options;
  options.host = flags.listen_host;
  options.port = flags.listen_port;
  options.threads = flags.threads;
  options.max_connections = flags.max_connections;
  options.max_body_size = flags.max_body_size;
  options.read_timeout = flags.read_timeout;
  options.idle_timeout = flags.idle_timeout;
  options.tls_cert = flags.tls_cert;
  options.tls_key = flags.tls_key;
  options.admin_host = flags.admin_host;
  options.admin_port = flags.admin_port;
  int status = 0;
  {
    gw::server http(options, handler, counters);
    // The certificate and key: new connections get the new pair; a pair that
    // fails to load keeps the old one (logged here, not failing the reload).
    reloads.add({"tls", {"tls-cert", "tls-key"}, [&http, &flags](const gw::config&, std::string&) {
                   if (flags.tls_cert.empty()) return true;
                   std::string why;
                   if (http.reload_tls(why))
                     gw::log("info", "tls_reloaded", {{"certificate", flags.tls_cert}});
                   else
                     gw::log("error", "tls_reload_failed", {{"reason", why}, {"kept", "previous certificate and key"}});
                   return true;
                 }});
    std::string bound;
    if (!http.listen(bound, message)) {
      std::fprintf(stderr, "fiskil-gateway: %s\n", message.c_str());
      if (forwarding) forwarding->stop();
      if (store) store->stop();
      return 1;
    }
    std::printf("listening on %s\n", bound.c_str());
    if (!http.admin_bound().empty()) std::printf("admin listening on %s\n", http.admin_bound().c_str());
    std::fflush(stdout);
    gw::log("info", "listening",
            {{"address", bound}, {"path", flags.path}, {"threads", std::to_string(flags.threads)},
             {"journal", flags.empty_server ? "none (--empty-server)" : flags.journal},
             {"admin", http.admin_bound().empty() ? "none (/metrics on this address)" : http.admin_bound()}});
    gw::signal_thread signals(
        [&] {
          gw::notify_reloading();
          reloads.reload();
          gw::notify_ready("listening on " + bound);
        },
        [&] {
          gw::notify_stopping();
          // /readyz fails first, so that a load balancer stops sending
          // before the listener closes.
          handler.drain();
          gw::log("info", "stopping",
                  {{"detail", "not ready; closing the listener after --shutdown-delay, then finishing requests in "
                              "flight"},
                   {"shutdown_delay", gw::format_duration(flags.shutdown_delay)}});
          if (flags.shutdown_delay.count() > 0) std::this_thread::sleep_for(flags.shutdown_delay);
          http.stop();
        });
    // systemd (docs/operations.md): ready once listening, after the warm
    // start; the watchdog proves the I/O threads run.
    gw::watchdog pet([&http](std::function<void()> probe) { http.post(std::move(probe)); });
    gw::notify_ready("listening on " + bound);
    http.run();
    pet.stop();
    signals.stop();
    if (forwarding) forwarding->stop();
    // Before the server is destroyed: the journal's pending callbacks hold
    // connections, which must be released while the server's io_context
    // still exists.
    if (store) store->stop();
  }
  gw::log("info", "stopped", {{"status", std::to_string(status)}});
  return status;
}
