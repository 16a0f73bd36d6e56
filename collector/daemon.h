// The daemon: runs the start-up steps in order (logging, signals, output, audit control socket,
// kernel settings, input, rules, privilege drop, reports, pipeline), serves signals and timers
// from the main thread, and runs the teardowns of the steps that ran in reverse. The list is
// kDaemonSteps in daemon.cpp; the runner is collector/startup_steps.h.
#pragma once

#include <string>

#include "base/result.h"
#include "collector/config/config.h"
#include "collector/pipeline.h"
#include "netlink/audit_socket.h"
#include "output/amqp/amqp_sink.h"
#include "output/http/http_sink.h"

namespace aurelay::collector {

// Runs until end of input or a stop signal; returns the process exit code.
int run_daemon(const Config& config);

// The configurations the components are built with: the Config's structs (the option table
// writes into them) completed with what is known only at start (hostname, URL, credentials,
// live or replay), and the shared TLS and delivery parts given to the sink.
PipelineConfig make_pipeline_config(const Config& config);
// The netlink data socket of a live input (mode and receive buffer).
netlink::DataSocketOptions make_data_socket_options(const Config& config);
// Fails when http_credentials_file cannot be read.
Result<output::HttpSinkConfig> make_http_config(const Config& config, const std::string& url);
output::AmqpSinkConfig make_amqp_config(const Config& config, const std::string& urls);

}  // namespace aurelay::collector
