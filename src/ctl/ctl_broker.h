/*
 * ctl_broker: garagectl broker-config, the Mosquitto configuration for a set of identities.
 *
 * It owns what the broker is told: DIR/mosquitto.conf (one TLS listener that requires a client
 * certificate from the CA and takes its CN as the MQTT user name and client id, so that one
 * certificate is one client; nothing anonymous; persistence; the CRL once there is one) and
 * DIR/acl (SPEC "Security model" 4: only controllers write a device's command topics, only the
 * device writes its own state; Home Assistant writes ha_cmd; any other certificate of the CA
 * may connect but use no topic). Every path in them is absolute. It never starts or signals
 * Mosquitto and never changes the owner or mode of a file of the PKI; the one thing it
 * creates besides the two files is the persistence directory.
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
