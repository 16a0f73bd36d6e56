// TLS settings of a transport (HTTPS and AMQPS take the same options: ssl_verify, curl_cainfo,
// ssl_client_cert, ssl_client_key).
#pragma once

#include <string>

namespace aurelay::output {

struct TlsConfig {
  bool verify = true;       // verify the peer's certificate and host name
  std::string ca_file;      // CA bundle (PEM); empty = the system's trust store
  std::string client_cert;  // client certificate (PEM); empty = none
  std::string client_key;   // its private key (PEM)
};

}  // namespace aurelay::output
