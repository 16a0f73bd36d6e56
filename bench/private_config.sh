# shellcheck shell=bash
# A private aurelay configuration for the benchmarks (sourced): every path aurelay writes by
# default (spool_dir, dead_letter_file, serial_file under /var/lib/aurelay) goes into the
# benchmark's own directory, so a benchmark neither writes the host's default paths nor reads
# an installed /etc/aurelay/aurelay.conf. Options on the command line still override it.
#   write_private_config FILE DIR   writes FILE (mode 600) with paths in DIR
write_private_config() {
  printf 'spool_dir = %s/spool\ndead_letter_file = %s/dead-letter.ndjson\nserial_file = %s/last-serial\n' \
    "$2" "$2" "$2" >"$1"
  chmod 600 "$1"
}
