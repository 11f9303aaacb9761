/*
 * ctl_broker: garagectl broker-config, the Mosquitto configuration for a set of identities.
 *
 * It owns what the broker is told: one TLS listener that requires a client certificate from the
 * CA and takes its CN as the MQTT user name and client id, so that one certificate is one
 * client; nothing anonymous; no packet over --max-packet-size (default 16 KiB), refused by the
 * broker before it is read; the CRL once there is one; and the ACL (SPEC "Security model" 4:
 * only controllers write a device's command topics, only the device writes its own state and
 * its own Home Assistant discovery, HA/cover/ID/#; Home Assistant writes ha_cmd and its own
 * prefix, which must not overlap the devices'; any other certificate of the CA may connect but
 * use no topic). Every path in them is absolute. Two layouts:
 *
 * - by default, DIR/mosquitto.conf (a main configuration, with persistence in DIR/data) and
 *   DIR/acl, naming the PKI's own files;
 * - with --mosquitto-dir MDIR (Debian's /etc/mosquitto, as root), a drop-in
 *   MDIR/conf.d/garaged.conf that leaves to the main file what it sets (persistence, pid file,
 *   log), and in MDIR/garaged/ the ACL and copies of what Mosquitto reads: the CA certificate,
 *   the broker's certificate and key (root:mosquitto 0640), the CRL. Nothing is written in DIR.
 *
 * It never starts or signals Mosquitto, never copies ca.key or a client's key, and never
 * changes the owner or mode of a file of the PKI; besides those files it creates only the
 * persistence directory (default layout; a symbolic link there is refused, never followed) or
 * MDIR/garaged.
 */
#ifndef GARAGECTL_BROKER_H
#define GARAGECTL_BROKER_H

/*
 * Runs `garagectl broker-config ...`: argv[0] is the first word after "broker-config".
 * Prints what was written and what to do next on stdout, each error as one line on stderr.
 * Returns garagectl's exit status (CTL_EXIT_*).
 */
int ctl_broker_main(int argc, char *argv[]);

#endif
