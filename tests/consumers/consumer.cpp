// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// consumer BODY_FILE SECRET_FILE SIGNATURE: the smallest program that uses
// fiskil-webhooks, built by each way of consuming the library
// (docs/consuming.md; tests/consumers/run.py). Prints "<event> <message_id>"
// and exits 0 for an authentic delivery; prints the reason and exits 1
// otherwise.
#include <fiskil/webhooks.hpp>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

namespace fw = fiskil::webhooks;

static std::string read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s BODY_FILE SECRET_FILE SIGNATURE\n", argv[0]);
    return 2;
  }
  const fw::result<fw::signing_key> key = fw::signing_key::from_base64(read_file(argv[2]));
  if (!key) {
    std::fprintf(stderr, "secret: %s\n", key.error().message().c_str());
    return 2;
  }
  const std::string body = read_file(argv[1]);
  fw::parser parser;
  const fw::result<fw::event> ev = parser.verify_and_parse(*key, body, argv[3]);
  if (!ev) {
    std::printf("refused: %s\n", ev.error().message().c_str());
    return 1;
  }
  const std::string_view name = fw::event_name(*ev), id = fw::envelope_of(*ev).message_id;
  std::printf("%.*s %.*s\n", int(name.size()), name.data(), int(id.size()), id.data());
  return 0;
}
