package hotswap.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Target 8: what users feel during a whole command, from the client JVM's start to its exit, on a
 * box that is serving. An open-loop load ({@value #RATE} {@code GET /items} a second over
 * {@value #CONNECTIONS} keep-alive connections, latency from each request's due time) runs while
 * the client pushes a small and a large database and pulls the large one, each command after a
 * few quiet seconds; the requests that overlap a command are set against those of the quiet
 * seconds. Then the same with the load raised until the app uses about one core. Last, the CPU
 * (user + sys) a small push's client takes against a bare hello-world JVM's, and that of the relay
 * a remote push runs on the app's machine.
 */
final class FeltBench {
    private static final double RATE = 400;
    private static final int CONNECTIONS = 32;
    private static final int ROUNDS = 3;
    private static final long QUIET_MILLIS = 3000;
    /** After a command, requests may still feel it: they count as neither during nor outside. */
    private static final long TAIL_MILLIS = 1000;
    private static final int CPU_RUNS = 9;
    private static final int CPU_REPEATS = 5;

    private final Bench bench;
    private final Path src1m;
    private final Path src1g;

    /** One command's window on the load's clock, and its kind. */
    private record Window(int kind, long start, long end) {
    }

    private static final String[] KINDS = {"push 1 MiB", "push 1 GiB", "pull 1 GiB to a file"};

    FeltBench(Bench bench, Path src1m, Path src1g) {
        this.bench = bench;
        this.src1m = src1m;
        this.src1g = src1g;
    }

    void run() throws Exception {
        Files.copy(src1m, bench.live, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        double share;
        try (Bench.App app = Bench.App.start(bench, "app-felt.log")) {
            share = pass(app, RATE, ROUNDS, true);
            double raised = Math.min(RATE / Math.max(share, 0.05), 20 * RATE);
            bench.progress(String.format(Locale.ROOT, "8: the app used %.0f%% of a core at %.0f/s; raising the load to %.0f/s",
                    100 * share, RATE, raised));
            pass(app, raised, 2, false);
            Files.copy(src1m, bench.live.resolveSibling("felt-small.sqlite3"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            clientCpu();
        }
    }

    /**
     * Runs the load at {@code rate} with {@code rounds} rounds of the three commands.
     *
     * @return the share of one core the app used during the first quiet seconds
     */
    private double pass(Bench.App app, double rate, int rounds, boolean goals) throws Exception {
        LoadGen load = new LoadGen(app.gated, "/items", CONNECTIONS).openLoop(rate);
        Path pulled = bench.dir.resolve("felt-pull.sqlite3");
        load.start();
        List<Window> windows = new ArrayList<>();
        List<long[]> excluded = new ArrayList<>();
        long began = System.nanoTime();
        Thread.sleep(3000); // warm-up: not counted
        excluded.add(new long[] {0, System.nanoTime()});
        double cpu0 = app.cpuSeconds();
        long t0 = System.nanoTime();
        Thread.sleep(QUIET_MILLIS);
        double share = (app.cpuSeconds() - cpu0) / ((System.nanoTime() - t0) / 1e9);
        for (int round = 0; round < rounds; round++) {
            for (int kind = 0; kind < KINDS.length; kind++) {
                bench.progress(String.format(Locale.ROOT, "8 at %.0f/s: %s, round %d", rate, KINDS[kind], round + 1));
                List<String> args = switch (kind) {
                    case 0 -> List.of("cp", src1m.toString(), bench.live.toString());
                    case 1 -> List.of("cp", src1g.toString(), bench.live.toString());
                    default -> List.of("cp", bench.live.toString(), pulled.toString());
                };
                long start = System.nanoTime();
                bench.cli(args);
                long end = System.nanoTime();
                windows.add(new Window(kind, start, end));
                Thread.sleep(TAIL_MILLIS);
                Files.deleteIfExists(pulled);
                bench.exec(List.of("sync"), null, false); // the next command's writes start from a clean page cache
                excluded.add(new long[] {end, System.nanoTime()});
                Thread.sleep(QUIET_MILLIS);
            }
        }
        LoadGen.Samples s = load.stop();
        report(s, windows, excluded, rate, goals, (System.nanoTime() - began) / 1e9);
        return share;
    }

    private void report(LoadGen.Samples s, List<Window> windows, List<long[]> excluded, double rate, boolean goals, double seconds) {
        List<Long> outside = new ArrayList<>();
        List<List<Long>> during = new ArrayList<>();
        for (int k = 0; k < KINDS.length; k++) {
            during.add(new ArrayList<>());
        }
        for (int i = 0; i < s.count(); i++) {
            long start = s.starts()[i];
            long end = start + s.latencies()[i];
            boolean in = false;
            for (Window w : windows) {
                if (start < w.end() && end > w.start()) {
                    during.get(w.kind()).add(s.latencies()[i]);
                    in = true;
                }
            }
            if (!in && excluded.stream().noneMatch(x -> start < x[1] && end > x[0])) {
                outside.add(s.latencies()[i]);
            }
        }
        double p99 = Bench.percentile(outside, 0.99) / 1e6;
        String load = String.format(Locale.ROOT, "%.0f/s", rate);
        String base = String.format(Locale.ROOT, "p99 outside %.1f ms", p99);
        for (int k = 0; k < KINDS.length; k++) {
            double p = Bench.percentile(during.get(k), 0.99) / 1e6 - p99;
            double max = Bench.percentile(during.get(k), 1.0) / 1e6 - p99;
            String label = String.format(Locale.ROOT, "8 %s at %s: p99 / slowest of %d requests during it, over p99 outside",
                    KINDS[k], load, during.get(k).size());
            bench.row(label, String.format(Locale.ROOT, "%+.1f / %+.1f ms", p, max), base, "-",
                    goals ? "<= +5 / +15 ms" : "(+5 / +15 ms)", goals ? p <= 5 && max <= 15 : null);
        }
        // The slowest request anywhere on this shared 2-core VM: what the slowest during a command is up against.
        bench.row(String.format(Locale.ROOT, "8 control at %s: p99 / slowest of the %d requests outside commands, over p99 outside",
                load, outside.size()), String.format(Locale.ROOT, "+0.0 / %+.1f ms", Bench.percentile(outside, 1.0) / 1e6 - p99), base,
                "-", "-", null);
        bench.row("8 failed requests at " + load + " (all " + s.count() + ", commands included)", Long.toString(s.errors()), "-", "-",
                goals ? "0" : "(0)", goals ? s.errors() == 0 : null);
        bench.notes.add(String.format(Locale.ROOT, "8 at %s: open loop over %d keep-alive connections, latency from each request's due "
                + "time; %d commands, %d runs of each, each after %d ms quiet; the %d ms after each command and its sync count as neither "
                + "during nor outside; %d requests in %.0f s, %d outside", load, CONNECTIONS, windows.size(), windows.size() / KINDS.length,
                QUIET_MILLIS, TAIL_MILLIS, s.count(), seconds, outside.size()));
    }

    /**
     * User + system CPU of a small push's client, and of a bare JVM running hello world, each the
     * median of a few; beside them a bare JVM that only connects to the app's socket: the floor
     * under any Java client of it.
     */
    private void clientCpu() throws Exception {
        Path small = bench.live.resolveSibling("felt-small.sqlite3");
        String classes = Bench.abs(bench.opt.get("classes"));
        // A remote push of the same file through a stand-in for ssh that runs the relay here and notes its CPU.
        Path relayCpu = bench.dir.resolve("felt-relay-cpu.txt");
        Path rsh = bench.dir.resolve("felt-rsh");
        Files.writeString(rsh, String.format(Locale.ROOT, REMOTE_SHELL, relayCpu));
        Files.setPosixFilePermissions(rsh, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.deleteIfExists(relayCpu);
        String cli = Bench.abs(bench.opt.get("cli"));
        List<String> localPush = bench.cliCommand(List.of("cp", small.toString(), bench.live.toString()));
        List<List<String>> kinds = List.of(
                List.of(bench.java, "-cp", classes, "hotswap.bench.Hello"),
                List.of(bench.java, "-cp", classes, "hotswap.bench.SocketHello", bench.socket.toString()),
                localPush,
                bench.cliCommand(List.of("cp", small.toString(), "felt:" + bench.live, "--rsh", rsh.toString(), "--remote-hotswap", cli)),
                localPush,
                localPush);
        // Which jar bin/hotswap runs for each kind. The last two are A/B sides, with no class-data archive beside them:
        // the jar as built, and the jar without inline concatenation.
        List<String> jars = List.of(bench.opt.get("jar"), bench.opt.get("jar"), bench.opt.get("jar"), bench.opt.get("jar"),
                bench.opt.get("ab-dir") + "/indy-concat.jar", bench.opt.get("ab-dir") + "/no-archive.jar");
        List<List<Double>> cpu = new ArrayList<>();
        kinds.forEach(k -> cpu.add(new ArrayList<>()));
        for (int i = 0; i < CPU_RUNS; i++) {
            bench.progress("8 client CPU, run " + (i + 1));
            for (int k = 0; k < kinds.size(); k++) {
                int kind = (k + i) % kinds.size(); // each run in another order
                cpu.get(kind).add(childCpu(kinds.get(kind), jars.get(kind)));
            }
        }
        double hello = Bench.median(cpu.get(0));
        double floor = Bench.median(cpu.get(1));
        double push = Bench.median(cpu.get(2));
        bench.row("8 client CPU (user+sys): push of 1 MiB vs a hello-world JVM", cpuSeconds(push), cpuSeconds(hello),
                push / hello, "<= 1.3", push / hello <= 1.3);
        bench.row("8 floor: a JVM that only connects to the app's socket vs a hello-world JVM", cpuSeconds(floor), cpuSeconds(hello),
                floor / hello, "-", null);
        bench.spreadRow("8 A/B, client CPU of a 1 MiB push: the class-data archive make records vs none",
                cpu.get(2), cpu.get(5), true, FeltBench::cpuSeconds);
        bench.spreadRow("8 A/B, client CPU of a 1 MiB push, no archive: string concatenation compiled inline vs invokedynamic (javac's default)",
                cpu.get(5), cpu.get(4), true, FeltBench::cpuSeconds);
        // Two lines a remote push, the second its children's; CPU_REPEATS pushes to each run: each run's relay is their mean.
        List<Double> relays = new ArrayList<>();
        List<String> lines = Files.readAllLines(relayCpu);
        if (lines.size() != 2 * CPU_RUNS * CPU_REPEATS) {
            throw new IllegalStateException("the stand-in for ssh noted " + lines.size() + " lines, not " + 2 * CPU_RUNS * CPU_REPEATS);
        }
        for (int i = 0; i < lines.size(); i += 2 * CPU_REPEATS) {
            double sum = 0;
            for (int k = 1; k < 2 * CPU_REPEATS; k += 2) {
                sum += times(lines.get(i + k));
            }
            relays.add(sum / CPU_REPEATS);
        }
        double relay = Bench.median(relays);
        bench.row("8 relay CPU (user+sys): the remote end of a push of 1 MiB vs a hello-world JVM", cpuSeconds(relay), cpuSeconds(hello),
                relay / hello, "<= 1.3", relay / hello <= 1.3);
        bench.row("8 the remote push's client alone (client, stand-in and relay, less the relay) vs a hello-world JVM",
                cpuSeconds(Bench.median(cpu.get(3)) - relay), cpuSeconds(hello), (Bench.median(cpu.get(3)) - relay) / hello, "-", null);
        bench.notes.add("8 client CPU from bash's times, " + CPU_RUNS + " runs each (each the mean of " + CPU_REPEATS
                + "), each run in another order: hello " + seconds(cpu.get(0)) + " s, socket hello " + seconds(cpu.get(1)) + " s, push "
                + seconds(cpu.get(2)) + " s, remote push (client, stand-in for ssh and relay) " + seconds(cpu.get(3))
                + " s, of which the relay (the stand-in's sh -c and the relay JVM, from bash's times there) " + seconds(relays)
                + " s, push without the archive (A/B) " + seconds(cpu.get(5)) + " s, without it and with invokedynamic concatenation (A/B) "
                + seconds(cpu.get(4)) + " s");
        Files.deleteIfExists(small);
        Files.deleteIfExists(relayCpu);
    }

    private static String cpuSeconds(double s) {
        return String.format(Locale.ROOT, "%.3f s", s);
    }

    private static String seconds(List<Double> values) {
        return values.stream().map(v -> String.format(Locale.ROOT, "%.3f", v)).toList().toString();
    }

    private static final Pattern TIMES = Pattern.compile("(\\d+)m([0-9.]+)s (\\d+)m([0-9.]+)s");

    /**
     * A stand-in for ssh ({@code felt-rsh HOST COMMAND}): runs COMMAND here, as sshd hands it to the
     * login shell, then appends bash's {@code times} to the file given: its own CPU on one line,
     * then its children's (the remote command: sh and the relay). Not through a pipe: a builtin in
     * a pipeline runs in a subshell, which has no children.
     */
    private static final String REMOTE_SHELL = """
            #!/bin/bash
            [ $# -eq 2 ] || { echo "felt-rsh: expected HOST COMMAND, got $# arguments" >&2; exit 255; }
            sh -c "$2"
            code=$?
            times >> '%s'
            exit $code
            """;

    /** User + system seconds of one line of bash's {@code times}. */
    static double times(String line) {
        Matcher m = TIMES.matcher(line);
        if (!m.find()) {
            throw new IllegalStateException("bash's times printed: " + line);
        }
        return Integer.parseInt(m.group(1)) * 60 + Double.parseDouble(m.group(2)) + Integer.parseInt(m.group(3)) * 60
                + Double.parseDouble(m.group(4));
    }

    /**
     * The user + system CPU seconds {@code cmd} took, bin/hotswap running {@code jar}, children included, from bash's {@code times}:
     * the mean of {@value #CPU_REPEATS} runs in a row, which narrows the spread from run to run.
     */
    private double childCpu(List<String> cmd, String jar) throws Exception {
        List<String> wrapped = new ArrayList<>(List.of("bash", "-c",
                "for i in $(seq " + CPU_REPEATS + "); do \"$@\" >/dev/null 2>&1 || exit 1; done; times", "cpu"));
        wrapped.addAll(cmd);
        Bench.Result r = bench.exec(wrapped, null, false, jar);
        if (r.exit() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + r.out());
        }
        String[] lines = r.out().strip().split("\n");
        return times(lines[lines.length - 1]) / CPU_REPEATS;
    }

    /** The CPU clock ticks (user + system, 1/100 s on Linux) process {@code pid} has used. */
}
