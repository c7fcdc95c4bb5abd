# SPDX-License-Identifier: Apache-2.0
# Plots of bench/run.sh. Called as
#   gnuplot -e "dir='RESULTS'; mode='bench'; lats='0 50'" bench/plot.gp  -> RESULTS/bench.png
#   gnuplot -e "dir='RESULTS'; mode='soak'" bench/plot.gp                -> RESULTS/soak.png
# bench.png: (1) end-to-end throughput over time in the saturation run, one
# line per sandbox latency (from sendgate-loadgen's 0.5 s progress lines);
# (2) latency distribution at half the saturated rate: latency (log scale)
# against percentile (p50, p90, p99, p99.9, max, spaced by their nines); (3) the gateway's RSS over time in the saturation runs.
# soak.png: gateway RSS and jobs in flight over the soak, and its throughput.
set terminal pngcairo size 1400,1000 noenhanced font ",10"
set grid
set key top right

if (mode eq 'soak') {
  set output dir.'/soak.png'
  set multiplot layout 2,1 title 'sendgate soak'
  set title 'gateway RSS over time'
  set xlabel 'seconds'
  set ylabel 'RSS MB'
  set yrange [0:*]
  set y2label 'jobs in flight'
  set y2tics
  plot dir.'/soak-rss.dat' using 1:2 with lines lw 2 title 'RSS MB', \
       '' using 1:3 axes x1y2 with lines title 'in flight'
  unset y2label
  unset y2tics
  set title 'end-to-end throughput'
  set ylabel 'messages/s'
  plot dir.'/soak-throughput.dat' using 1:2 with lines lw 2 title 'completed/s'
  unset multiplot
} else {
  set output dir.'/bench.png'
  set multiplot layout 3,1 title 'sendgate benchmark'
  set title 'end-to-end throughput over time, saturation run'
  set xlabel 'seconds'
  set ylabel 'messages/s'
  set yrange [0:*]
  plot for [l in lats] dir.'/throughput-'.l.'.dat' using 1:2 with linespoints lw 2 \
       title 'sandbox latency '.l.' ms'
  set title 'latency at half the saturated rate (created -> result)'
  set xlabel 'percentile'
  set ylabel 'ms'
  set logscale y
  set yrange [*:*]
  set xrange [0:4.2]
  plot for [l in lats] dir.'/latency-'.l.'.dat' using 1:2:xtic(3) with linespoints lw 2 pt 7 \
       title 'sandbox latency '.l.' ms'
  unset logscale y
  set xtics autofreq
  set xtics
  set autoscale x
  set title 'gateway RSS over time, saturation run'
  set xlabel 'seconds'
  set ylabel 'RSS MB'
  set yrange [0:*]
  plot for [l in lats] dir.'/samples-'.l.'.dat' using 1:2 with lines lw 2 \
       title 'sandbox latency '.l.' ms'
  unset multiplot
}
