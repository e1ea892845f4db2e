# vitis_hls.tcl -- check a kernel of kernels/ against an hls-sim golden set in Vitis HLS:
# C simulation, synthesis and C/RTL co-simulation, all with testbench/golden_tb.cpp.
#
# Usage (the project folder is created in the working folder):
#   hls-sim golden weights/conv1x1.yaml -o golden_conv1x1
#   vitis_hls -f testbench/vitis_hls.tcl -tclargs golden_conv1x1 [PART] [CLOCK_NS] [STEPS]
#
#   GOLDEN_DIR  a folder written by `hls-sim golden` (required)
#   PART        the FPGA part (default xczu7ev-ffvc1156-2-e, the ZCU104's Zynq UltraScale+)
#   CLOCK_NS    the clock period in ns (default 5, i.e. 200 MHz)
#   STEPS       a comma-separated subset of csim,csynth,cosim (default: all three; cosim
#               needs csynth, which is then run as well)
# Each argument may also come from the environment: HLS_SIM_GOLDEN, HLS_SIM_PART,
# HLS_SIM_CLOCK, HLS_SIM_STEPS (a -tclargs argument wins). HLS_SIM_PROJECT names the project
# folder (default hls_sim_<kernel>).
#
# What it does: the design source is the golden set's hls_sim_kernel.cpp (the kernel of
# kernels/ compiled for the set's configuration header), the top function is the set's kernel;
# the testbench is golden_tb.cpp, and the set's .bin files and index are added with
# add_files -tb, so they sit in the simulation's working folder (csim and cosim alike) where
# golden_tb reads them. A mismatch makes golden_tb return non-zero, so csim_design and
# cosim_design report failure. Co-simulation runs every vector through the RTL: use a set with
# few vectors (--count 1 or 2) for it.
#
# Vitis passes -cflags on to the compilers as words: the folders may not contain spaces.

proc hls_sim_arg {index env default} {
    global argv
    if {[info exists argv] && [llength $argv] > $index && [lindex $argv $index] ne ""} {
        return [lindex $argv $index]
    }
    if {[info exists ::env($env)] && $::env($env) ne ""} {
        return $::env($env)
    }
    return $default
}

set hls_sim_tb_dir [file dirname [file normalize [info script]]]
set hls_sim_root [file dirname $hls_sim_tb_dir]
set hls_sim_kernels [file join $hls_sim_root kernels]

set golden [hls_sim_arg 0 HLS_SIM_GOLDEN ""]
if {$golden eq ""} {
    puts "usage: vitis_hls -f [info script] -tclargs GOLDEN_DIR \[PART\] \[CLOCK_NS\] \[STEPS\]"
    exit 2
}
set golden [file normalize $golden]
set part [hls_sim_arg 1 HLS_SIM_PART xczu7ev-ffvc1156-2-e]
set clock [hls_sim_arg 2 HLS_SIM_CLOCK 5]
set steps [split [hls_sim_arg 3 HLS_SIM_STEPS csim,csynth,cosim] ","]

foreach dir [list $golden $hls_sim_kernels $hls_sim_tb_dir] {
    if {[regexp {\s} $dir]} {
        puts "ERROR: '$dir' contains a space; Vitis -cflags cannot carry it. Move the folder."
        exit 2
    }
}
foreach step $steps {
    if {[lsearch -exact {csim csynth cosim} $step] < 0} {
        puts "ERROR: unknown step '$step' (expected csim, csynth, cosim)"
        exit 2
    }
}
if {![string is double -strict $clock] || $clock <= 0} {
    puts "ERROR: CLOCK_NS must be a positive number of nanoseconds, got '$clock'"
    exit 2
}

# The golden set's index: "key value" lines.
set index [file join $golden hls_sim_golden.txt]
if {![file isfile $index]} {
    puts "ERROR: $index not found: '$golden' is not a golden set (write one with hls-sim golden)"
    exit 2
}
set fh [open $index r]
array set hls_sim_index {}
foreach line [split [read $fh] "\n"] {
    if {[llength $line] == 2} { set hls_sim_index([lindex $line 0]) [lindex $line 1] }
}
close $fh
foreach key {kernel function vectors} {
    if {![info exists hls_sim_index($key)]} {
        puts "ERROR: $index has no '$key' line; regenerate the golden set"
        exit 2
    }
}
set top $hls_sim_index(function)
if {![regexp {^[A-Za-z_][A-Za-z0-9_]*$} $top]} {
    puts "ERROR: $index: bad function name '$top'"
    exit 2
}
set project "hls_sim_$hls_sim_index(kernel)"
if {[info exists ::env(HLS_SIM_PROJECT)] && $::env(HLS_SIM_PROJECT) ne ""} {
    set project $::env(HLS_SIM_PROJECT)
}

puts "hls-sim: kernel $top, golden set $golden ($hls_sim_index(vectors) vector(s)),\
      part $part, clock $clock ns, steps [join $steps ,]"

set cflags "-std=c++14 -I$hls_sim_kernels -I$golden"

open_project -reset $project
set_top $top
add_files [file join $golden hls_sim_kernel.cpp] -cflags $cflags
add_files -tb [file join $hls_sim_tb_dir golden_tb.cpp] -cflags $cflags
add_files -tb $index
foreach f [lsort [glob -nocomplain -directory $golden *.bin]] {
    add_files -tb $f
}
open_solution -reset solution1
set_part $part
create_clock -period $clock -name default

if {[lsearch -exact $steps csim] >= 0} {
    csim_design
}
if {[lsearch -exact $steps csynth] >= 0 || [lsearch -exact $steps cosim] >= 0} {
    csynth_design
}
if {[lsearch -exact $steps cosim] >= 0} {
    cosim_design
}
exit
