# bench/fleet.sh's picture of the reconnect storm: devices online and the broker's CPU against
# the seconds since the broker was killed. gnuplot -e "dir='D'; n=N; restart=S; down=S" online.gp
# reads D/online.dat and D/cpu.dat (bench/fleet.py storm) and writes D/online.png.
set terminal pngcairo size 900,500 font "sans,10"
set output dir."/online.png"
set title sprintf("%d garaged reconnecting to one Mosquitto (TLS) after it was killed and restarted %.0f s later", n, down)
set xlabel "seconds since the broker was killed"
set ylabel "devices online (CONNACK)"
set y2label "broker CPU, % of one core (0.5 s bins)"
set yrange [0:n * 1.05]
set y2range [0:*]
set ytics nomirror
set y2tics
set key right center
set grid ytics
set boxwidth 0.45 absolute
set arrow from restart, graph 0 to restart, graph 1 nohead dashtype 2 lc rgb "#888888"
set label "broker started again" at restart, graph 0.5 rotate by 90 center offset -1,0 tc rgb "#555555"
plot dir."/cpu.dat" using 1:2 axes x1y2 with boxes fill solid 0.3 lc rgb "#d95f02" title "broker CPU", \
     dir."/online.dat" using 1:2 with steps lw 2 lc rgb "#1b9e77" title "devices online"
