package hotswap.cli;

import hotswap.wire.Channel;
import hotswap.wire.CopyRequest;
import hotswap.wire.Delta;
import hotswap.wire.Failures;
import hotswap.wire.FileModes;
import hotswap.wire.Frames;
import hotswap.wire.Packer;
import hotswap.wire.PageHashes;
import hotswap.wire.Printable;
import hotswap.wire.Protocol;
import hotswap.wire.ProtocolException;
import hotswap.wire.Reads;
import hotswap.wire.Strings;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs {@code hotswap cp} against the app: resolves the local paths ({@link LocalPaths}), connects
 * and checks that the app runs as this user before sending anything ({@link AppSocket}), or, for
 * a remote app, starts the transport to the relay on its machine ({@link Transport},
 * {@link Relay}), sends the request, then
 * either streams the local source to the server (a push) or takes the snapshot the server offers
 * or streams into the local destination (a pull: {@link PullSink}, {@link OfferedSnapshot}),
 * printing the server's messages on the matching local stream, and returns the server's exit
 * status.
 */
final class CopyClient {
    /** Environment variable naming the transport of a remote copy when --rsh is not given. */
    static final String RSH_ENV = "HOTSWAP_RSH";
    /** The transport when neither --rsh nor HOTSWAP_RSH is given. */
    static final String DEFAULT_RSH = "ssh";

    /**
     * {@code --rsh}, else {@code $HOTSWAP_RSH}, else ssh. An empty variable counts as unset, as
     * {@code HOTSWAP_SOCKET} does and as for the shell's {@code ${VAR:-default}}.
     */
    static String rsh(String option, Map<String, String> env) {
        String fromEnv = env.get(RSH_ENV);
        return option != null ? option : fromEnv != null && !fromEnv.isEmpty() ? fromEnv : DEFAULT_RSH;
    }

    private final CopyOptions options;
    private final Path cwd;
    private final Path socketPath;
    /** {@code --socket} as given, or null: for a remote copy, it names the socket there. */
    private final String socketArg;
    private final Map<String, String> env;
    private final InputStream stdin;
    private final OutputStream stdout;
    private final PrintStream stderr;
    private final Progress progress;
    private volatile String localFailure;
    /** Why the app's final word could not be written to standard output, or null: the command's outcome stands regardless. */
    private String stdoutFailure;
    /** Removes a pull's partial output should the JVM be stopped; null until a pull has one. */
    private Thread discardOnExit;
    /** The local source's real path or {@code -}; null when the source is remote. */
    private String localSource;
    /** The local destination's real path or {@code -}; null when the destination is remote. */
    private String localDestination;
    /** The remote side, or null for a copy on this machine. */
    private RemoteTarget remote;
    private Transport transport;
    /** A delta push's source, being hashed; null for a whole-file push. */
    private DeltaPush deltaPush;
    /** A delta pull's copy of the destination, being made; null for a whole-file pull. */
    private DeltaPull deltaPull;

    CopyClient(CopyOptions options, Path cwd, Path socketPath, String socketArg, Map<String, String> env, InputStream stdin,
               OutputStream stdout, PrintStream stderr, Progress progress) {
        this.options = options;
        this.cwd = cwd;
        this.socketPath = socketPath;
        this.socketArg = socketArg;
        this.env = env;
        this.stdin = stdin;
        this.stdout = stdout;
        this.stderr = stderr;
        this.progress = progress;
    }

    int run() throws Failure, UsageError, IOException {
        try {
            return options.remote() == null ? runHere() : runRemote(options.remote());
        } finally {
            abandonDelta(true, true); // a copy of a delta pull that was not renamed into place is removed
            keepOnExit();
        }
    }

    /** A copy between this machine's app and a local file or stdio. */
    private int runHere() throws Failure, IOException {
        // A source the app names is not a local file; a destination it may name may still be a new local file.
        String sourceName = LocalPaths.name(cwd, options.source());
        String destinationName = LocalPaths.name(cwd, options.destination());
        localSource = sourceName == null ? LocalPaths.source(cwd, options.source()) : null;
        refuseTerminalStdin();
        localDestination = LocalPaths.destination(cwd, options.destination(), sourceName == null ? localSource : sourceName);
        refuseTerminalStdout();
        refuseSameFile();
        if (CopyRequest.STDIO.equals(localDestination) && localSource != null && !CopyRequest.STDIO.equals(localSource)
                && isProcessStdout()) {
            LocalPaths.refuseStdoutIntoSource(localSource);
        }
        prepareDelta();
        String source = sourceName == null ? localSource : cwd.toAbsolutePath().resolve(sourceName).toString();
        CopyRequest request = request(source, localDestination).withNames(sourceName, destinationName);
        try (SocketChannel socket = AppSocket.connect(socketPath)) {
            Frames frames = new Frames(socket);
            handshake(frames, request.encode(), null);
            return converse(socket, frames, request);
        }
    }

    /**
     * A push from {@code -} with nothing piped in would wait, silently, for a database typed at the
     * keyboard; with standard input closed, it would read a file of the JVM's.
     */
    private void refuseTerminalStdin() throws Failure {
        if (pushesProcessStdin() && LocalPaths.stdinWasClosed()) {
            throw new Failure("standard input is closed (<&-), so there is no database to read; nothing changed. "
                    + "Pipe or redirect one in: hotswap cp - " + options.destination() + " < new.sqlite3");
        }
        if (pushesProcessStdin() && LocalPaths.stdinIsTerminal()) {
            throw new Failure("standard input is a terminal, not a database; nothing changed. Pipe or redirect one in: "
                    + "hotswap cp - " + options.destination() + " < new.sqlite3");
        }
    }

    /**
     * A pull to {@code -} with standard output on the terminal (the {@code > backup} forgotten) would
     * pour a binary file onto it, and play whatever escape sequences the app's users stored in its
     * rows, where every other text from the far side reaches the terminal with control characters shown as {@code ?}.
     */
    private void refuseTerminalStdout() throws Failure, IOException {
        if (CopyRequest.STDIO.equals(localDestination) && isProcessStdout() && LocalPaths.stdoutIsTerminal()) {
            throw new Failure("standard output is a terminal, and a database is binary: it would garble the terminal; nothing "
                    + "changed. Redirect or pipe it: hotswap cp " + options.source() + " - > backup.sqlite3");
        }
    }

    /**
     * Refuses a copy between two names of one file: a hard link (as {@code cp -al} or rsnapshot
     * leave) or a path through a bind mount. Pushing the live database onto itself that way sends its
     * main file without the transactions its {@code -wal} holds, and swapping that in loses them; a
     * pull onto it would replace only a name. The same path on both sides is the app's to refuse.
     */
    private void refuseSameFile() throws Failure {
        String source = pushesProcessStdin() ? LocalPaths.stdinFile() : localSource;
        if (source == null || isStdio(source) || isStdio(localDestination) || source.equals(localDestination)) {
            return;
        }
        try {
            if (!Files.isSameFile(Path.of(source), Path.of(localDestination))) {
                return;
            }
        } catch (IOException e) {
            return; // the destination is not there yet
        }
        throw new Failure(CopyRequest.sameFileRefusal(source, localDestination));
    }

    /**
     * A source named as the app names it ({@code hotswap cp production.sqlite3 - > db/production.sqlite3})
     * has no path here until the app answers: its snapshot, offered beside it as
     * {@code .<db name>.hotswap-<random>.pull}, says where the database is, and standard output must
     * not be it, as for a source given by path. Hanging up ends the pull with nothing written.
     */
    private void refuseStdoutIntoNamedSource(String offeredPath, String id) throws Failure, IOException {
        if (remote != null || localSource != null || !CopyRequest.STDIO.equals(localDestination) || !isProcessStdout()) {
            return;
        }
        Path snapshot = OfferedSnapshot.snapshotPath(offeredPath, id);
        if (snapshot == null) {
            return;
        }
        LocalPaths.refuseStdoutIntoSource(OfferedSnapshot.databaseOf(snapshot).toString());
    }

    /** Whether the source is this process's standard input, rather than a stream an embedding caller passed, or a file. */
    private boolean pushesProcessStdin() {
        return CopyRequest.STDIO.equals(localSource) && stdin == System.in;
    }

    /** Whether stdout is this process's standard output, rather than a stream an embedding caller passed. */
    private boolean isProcessStdout() throws IOException {
        return stdout instanceof java.io.FileOutputStream file && file.getFD() == java.io.FileDescriptor.out;
    }

    /**
     * A copy to or from an app on another machine, through the {@code --rsh} transport and the
     * {@code hotswap relay} it starts there. The local side follows every local rule; the remote
     * path travels inside the protocol, and the relay resolves it there.
     */
    private int runRemote(RemoteTarget target) throws Failure, UsageError, IOException {
        String rsh = rsh(options.rsh(), env);
        List<String> argv = RemoteCommand.argv(rsh, RemoteTarget.address(target.host()), RemoteCommand.LINE);
        RemoteTarget.refuseTooLong(Command.CP, "--socket", socketArg);
        boolean push = options.remotePush();
        localSource = push ? LocalPaths.source(cwd, options.source()) : null;
        refuseTerminalStdin();
        if (!push && namesADirectory(target.path()) && !options.destination().equals(CopyRequest.STDIO)
                && Files.isDirectory(cwd.resolve(options.destination()))) {
            throw new Failure("cannot pull " + target + " into the directory " + options.destination() + ": " + target.path()
                    + " names a directory, not a database file; nothing changed. Name the database file");
        }
        localDestination = push ? null : LocalPaths.destination(cwd, options.destination(), target.path());
        refuseTerminalStdout();
        remote = target;
        prepareDelta();
        CopyRequest request = request(push ? localSource : CopyRequest.STDIO, CopyRequest.STDIO);
        transport = Transport.start(argv, String.join(" ", argv.subList(0, argv.size() - 1)),
                RemoteCommand.preamble(options.remoteDir(), options.remoteHotswap()));
        try (Transport t = transport) {
            Frames frames = t.frames();
            handshake(frames, new RelayRequest(push, target.path(), socketArg, sample()).encode(), request.encode());
            return converse(t, frames, request);
        }
    }

    /**
     * For a remote delta push left to the default, the {@link ReuseSample} of the source, by which
     * the relay sends it whole when little of the live database is reusable; else null.
     */
    private byte[] sample() throws Failure {
        if (deltaPush == null || options.deltaGiven()) {
            return null;
        }
        try (FileChannel in = FileChannel.open(Path.of(localSource), StandardOpenOption.READ)) {
            return ReuseSample.of(in, deltaPush.pages());
        } catch (IOException e) {
            throw new Failure("cannot read " + localSource + ": " + Failures.describe(e) + "; nothing changed");
        }
    }

    /** Whether a remote PATH ends in /, . or ..: it has no file name to give a copy in a local directory. */
    private static boolean namesADirectory(String path) {
        Path name = Path.of(path).getFileName();
        return name == null || name.toString().equals(".") || name.toString().equals("..");
    }

    private CopyRequest request(String source, String destination) throws Failure {
        // With delta pages, the size they were read at: the app refuses a request where the two disagree, and
        // a file that grows between two looks (the app's live database, the source of a pull) would make them.
        long sourceSize = deltaPush != null ? (long) deltaPush.pages().pageSize() * deltaPush.pages().count()
                : localSource == null || localSource.equals(CopyRequest.STDIO) ? -1 : sizeOf(localSource);
        return new CopyRequest(source, destination,
                options.skipIntegrityCheck() ? CopyRequest.Integrity.SKIP
                        : options.quickCheck() ? CopyRequest.Integrity.QUICK : CopyRequest.Integrity.FULL,
                !options.skipSchemaCheck(), options.timeoutMillis(), sourceSize, options.force(), options.keepPrevious(),
                deltaPush != null ? deltaPush.pages() : null, deltaPull != null ? deltaPull.pages() : null, options.compress());
    }

    /**
     * For a delta transfer, reads the headers of the client's files: the source of a push, the
     * existing destination of a pull. On this machine either may be the app's live database, which
     * the app's answer tells; for a remote copy the sides are known, so the reading starts now,
     * while the app takes its snapshot.
     */
    private void prepareDelta() throws Failure {
        if (!options.delta()) {
            return;
        }
        if (!isStdio(localSource)) {
            deltaPush = DeltaPush.prepare(Path.of(localSource));
        }
        if (!isStdio(localDestination)) {
            deltaPull = DeltaPull.prepare(Path.of(localDestination), progress, remote == null);
        }
        if (remote != null && deltaPush != null) {
            deltaPush.start();
        }
        if (remote != null && deltaPull != null) {
            deltaPull.start();
            // The copy is as large as the destination, and the link and the app's snapshot may take a while:
            // Ctrl-C meanwhile must remove it, as it does once the pages flow.
            discardOnExit(deltaPull.sink());
        }
    }

    private static boolean isStdio(String path) {
        return path == null || path.equals(CopyRequest.STDIO);
    }

    /** Neither file will be needed for a delta transfer: the app asked for the whole file, or the other side's. */
    private void abandonDelta(boolean push, boolean pull) {
        if (push && deltaPush != null) {
            deltaPush.abandon();
            deltaPush = null;
        }
        if (pull && deltaPull != null) {
            deltaPull.abandon();
            deltaPull = null;
        }
    }

    /** Says hello, sends the request (one or two messages), and checks the peer's protocol version. */
    private void handshake(Frames frames, List<String> first, List<String> second) throws Failure {
        String refused = Handshake.perform(frames, first, second, transport, remote == null ? null : remote.host());
        if (refused != null) {
            localFailure = refused;
        }
    }

    /** The transport's end, as a sentence and its stderr. */
    private String ending() {
        return transport.endingSentence();
    }

    private long sizeOf(String source) throws Failure {
        try {
            return Files.size(Path.of(source));
        } catch (IOException e) {
            throw new Failure("cannot read " + options.source() + ": " + Failures.describe(e));
        }
    }

    /**
     * Reads the app's replies until its exit status, acting on each: prints its text, uploads a
     * push, receives a pull.
     *
     * @param connection the socket or the transport; closing it hangs up
     */
    private int converse(Closeable connection, Frames frames, CopyRequest request) throws Failure, IOException {
        PullSink sink = null;
        OfferedSnapshot offer = null;
        boolean taken = false;
        Thread uploader = null;
        Packer.Unpacker unpacker = new Packer.Unpacker(Protocol.PULL_CHUNK_BYTES); // a streamed pull's deflated chunks, if allowed
        long streamed = 0; // a streamed pull's bytes so far, against the size the app announced
        boolean streamEnded = false;
        try {
            while (true) {
                Frames.Frame frame;
                try {
                    frame = frames.read();
                } catch (AsynchronousCloseException e) {
                    frame = null;
                } catch (IOException e) {
                    if (remote == null && e instanceof ProtocolException) {
                        throw e;
                    }
                    // The transport died inside a frame, or the app died with bytes of ours unread, which resets the
                    // connection rather than closing it: either way the connection ended.
                    frame = null;
                }
                if (frame == null) {
                    throw ended(uploader != null, sink != null);
                }
                if (printed(frame)) {
                    continue;
                }
                switch (frame.channel()) {
                    case CONTROL -> {
                        List<String> message = Strings.decode(frame.payload());
                        if (message.size() == 4 && message.get(0).equals("delta") && uploader == null && sink == null) {
                            boolean push = message.get(1).equals("push");
                            if (push ? deltaPush == null : !message.get(1).equals("pull") || deltaPull == null) {
                                throw new ProtocolException("the app offered a delta transfer this client did not ask for");
                            }
                            abandonDelta(!push, push);
                            int pages = count(message.get(2));
                            try {
                                if (push) {
                                    refuseSourceOrAnnounce();
                                    uploader = startUpload(connection, deltaPush.exchange(frames, () -> nextData(frames), pages, options.compress(), progress));
                                } else {
                                    LocalPaths.refuseToReplace(localDestination); // hanging up ends the pull
                                    deltaPull.refuseToTakeTheAppsReserve(pages); // before its copy starts
                                    sink = deltaPull.sink();
                                    discardOnExit(sink);
                                    deltaPull.exchange(frames, () -> nextData(frames), pages, FileModes.fromOctal(message.get(3)), progress);
                                }
                            } catch (Ended | ProtocolException e) {
                                throw e;
                            } catch (IOException e) {
                                // Local files fail as Failure: what is left is the connection, cut while hashes or pages crossed.
                                throw ended(false, sink != null);
                            }
                        } else if (message.equals(List.of("push")) && uploader == null && sink == null) {
                            abandonDelta(true, true);
                            refuseSourceOrAnnounce();
                            progress.total(request.sourceSize());
                            progress.phase("sending");
                            uploader = startUpload(connection, () -> {
                                if (localSource.equals(CopyRequest.STDIO)) {
                                    uploadStream(frames, stdin);
                                } else {
                                    uploadFile(frames, Path.of(localSource));
                                }
                                frames.writeEnd(Channel.DATA_IN);
                            });
                        } else if (message.size() == 5 && message.get(0).equals("pull") && offer == null && uploader == null && sink == null) {
                            if (localDestination == null) { // a remote push: there is no local destination to check
                                throw new ProtocolException("the app offered a snapshot for a push");
                            }
                            abandonDelta(true, true);
                            LocalPaths.refuseToReplace(localDestination); // hanging up ends the pull
                            refuseStdoutIntoNamedSource(message.get(2), message.get(3));
                            long size = size(message.get(1));
                            progress.total(size);
                            progress.phase("receiving");
                            sink = openSink(FileModes.fromOctal(message.get(4)));
                            offer = new OfferedSnapshot(message.get(2), message.get(3), size);
                            // A remote app's snapshot is on its machine: a file of that name here is another file.
                            String how = remote == null ? sink.take(offer) : null;
                            frames.writeStrings(Channel.CONTROL, how == null ? List.of("stream") : List.of("took", how));
                            if (how != null) {
                                taken = true;
                                sink.finishTaken(offer, progress);
                            }
                        } else {
                            throw new ProtocolException("unexpected message from the app: " + message);
                        }
                    }
                    case DATA_OUT, DATA_OUT_DEFLATED -> {
                        // Only a whole pull's offer is streamed (a delta pull's pages come through its exchange).
                        if (offer == null || taken) {
                            throw new ProtocolException(offer == null ? "the app sent database bytes before saying it would"
                                    : "the app streamed a snapshot this client had taken as a file");
                        }
                        if (streamEnded) {
                            throw new ProtocolException("the app sent database bytes after their end");
                        }
                        ByteBuffer bytes = frame.payload();
                        if (frame.channel() == Channel.DATA_OUT_DEFLATED) {
                            if (!request.compress()) {
                                throw new ProtocolException("the app sent deflated bytes this client did not allow");
                            }
                            bytes = unpacker.inflate(bytes);
                        } else if (frame.isEndOfStream()) {
                            if (streamed != offer.size()) {
                                throw new ProtocolException("the app sent " + streamed + " of the " + offer.size()
                                        + " bytes of the snapshot it announced");
                            }
                            streamEnded = true;
                            sink.finish();
                            continue;
                        }
                        streamed += bytes.remaining();
                        if (streamed > offer.size()) {
                            throw new ProtocolException("the app sent more than the " + offer.size()
                                    + " bytes of the snapshot it announced");
                        }
                        progress.add(bytes.remaining());
                        sink.write(bytes);
                    }
                    case EXIT -> {
                        int status = Protocol.exitStatus(frame);
                        if (status == 0 && offer != null && !taken && !streamEnded) {
                            throw new ProtocolException("the app reported success before the end of the snapshot it streamed");
                        }
                        // Where the app has the source (a name it manages, or a remote one) the copy is a pull, which
                        // succeeds only with a snapshot; where it has the destination (a remote one), a push only with the file.
                        if (status == 0 && localSource == null && sink == null) {
                            throw new ProtocolException("the app reported success but sent no snapshot; "
                                    + (localDestination.equals(CopyRequest.STDIO) ? "nothing reached standard output"
                                    : options.destination() + " was not written"));
                        }
                        if (status == 0 && localDestination == null && uploader == null) {
                            throw new ProtocolException("the app reported success without asking for the bytes of " + options.source()
                                    + ", which were not pushed; see the app's log for what it did");
                        }
                        progress.close();
                        if (status == 0 && stdoutFailure != null) {
                            throw new Failure("the push succeeded: " + options.destination() + " now holds " + options.source()
                                    + ", but its OK could not be written to standard output (" + stdoutFailure
                                    + "); nothing needs doing, but check where standard output goes");
                        }
                        if (status == 0 && sink != null) {
                            sink.commit();
                            if (!localDestination.equals(CopyRequest.STDIO)) {
                                progress.println("OK");
                            }
                        }
                        return status;
                    }
                    default -> throw new ProtocolException("unexpected " + frame.channel() + " frame from the app");
                }
            }
        } catch (Ended e) {
            if (e.status == 0) {
                throw new Failure("protocol error: the app ended the command in the middle of a delta transfer; "
                        + "use the same hotswap jar for the command and the app");
            }
            progress.close();
            return e.status;
        } catch (ProtocolException e) {
            // A pull's sink is discarded below, and a push's bytes may have been swapped in: say so, as a cut transport does.
            String outcome = uploader != null ? mayHaveSwapped() + "; " : sink != null ? notPulled() + "; " : "";
            throw new Failure("protocol error: " + e.getMessage() + "; " + outcome + "use the same hotswap jar for the command and the app");
        } finally {
            if (sink != null) {
                sink.discard();
            }
            keepOnExit();
            if (offer != null) {
                offer.close();
            }
            if (uploader != null) {
                uploader.interrupt();
            }
            unpacker.close();
        }
    }

    /** What a pull that failed once its bytes began to arrive left at its destination: nothing whole. */
    private String notPulled() {
        return localDestination.equals(CopyRequest.STDIO) ? "what reached standard output is not a whole snapshot"
                : options.destination() + " was not written";
    }

    /**
     * The connection ended before the command did: the transport (which says how), or the app.
     *
     * @param uploading whether the push's bytes were on their way, so the app may have swapped
     * @param pulling   whether a pull's destination was being written (it was not renamed into place)
     */
    private Failure ended(boolean uploading, boolean pulling) {
        if (localFailure != null) {
            return new Failure(localFailure);
        }
        if (remote != null) {
            return new Failure("the connection to " + remote.host() + " ended before the command finished; "
                    + (uploading ? mayHaveSwapped() + ". " : pulling ? notPulled() + ". " : "nothing changed. ") + ending());
        }
        // The app died (killed, out of memory): once it had the push's bytes, it may have renamed them into place.
        return new Failure("the app closed the connection before the command finished; " + (uploading ? mayHaveSwapped()
                : (pulling ? notPulled() : "nothing changed") + "; see the app's log"));
    }

    /** What a push whose bytes were on their way may have done, when its outcome never arrived. */
    private String mayHaveSwapped() {
        return remote != null ? "the app there keeps the old database or the new one, whole (pull it, or read the app's log, to see which)"
                : options.destination() + " holds the old database or the new one, whole: pull it, or read the app's log, to see which";
    }

    /**
     * Opens where the pull goes, and has what it writes removed if the JVM is stopped (Ctrl-C,
     * SIGTERM) before it ends, as after a failure; otherwise a stopped pull left its temp file
     * beside the destination, up to the whole database.
     */
    private PullSink openSink(Set<PosixFilePermission> mode) throws IOException {
        PullSink sink = PullSink.open(localDestination, stdout, mode);
        discardOnExit(sink);
        return sink;
    }

    /** Has {@code sink}'s partial output removed if the JVM is stopped, instead of any sink's before. */
    private void discardOnExit(PullSink sink) {
        keepOnExit();
        discardOnExit = new Thread(sink::discard, "hotswap-discard");
        Runtime.getRuntime().addShutdownHook(discardOnExit);
    }

    /** The pull's output is committed or already discarded: nothing is left for a stop to remove. */
    private void keepOnExit() {
        if (discardOnExit != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(discardOnExit);
            } catch (IllegalStateException e) {
                // Already shutting down: the hook finds nothing left to remove.
            }
            discardOnExit = null;
        }
    }

    /**
     * Prints what the app says for the user: its final word on stdout, messages on stderr, the
     * phase of the command on the progress line.
     *
     * @return false for any other frame
     */
    private boolean printed(Frames.Frame frame) throws IOException {
        switch (frame.channel()) {
            case STDOUT -> {
                progress.close(); // the server's stdout text is its final word
                try {
                    stdout.write(Printable.lines(frame.text()).getBytes(StandardCharsets.UTF_8));
                    stdout.flush();
                } catch (IOException e) {
                    // Closed, or a log on a full disk: the push has happened all the same, and its exit status must say so.
                    stdoutFailure = Failures.describe(e);
                }
            }
            case STDERR -> progress.println(fromWhichSide(Printable.lines(frame.text())));
            case CONTROL -> {
                List<String> message = Strings.decode(frame.payload());
                if (message.size() != 2 || !message.get(0).equals("phase")) {
                    return false;
                }
                progress.phase(Printable.lines(message.get(1)));
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    /**
     * The app's next piece of a delta message, printing what it says meanwhile. An exit status
     * (the app failed) or a hang-up ends the exchange.
     */
    private ByteBuffer nextData(Frames frames) throws IOException {
        while (true) {
            Frames.Frame frame = frames.read();
            if (frame == null) {
                throw new EOFException("the app closed the connection during the delta transfer");
            }
            if (frame.channel() == Channel.DATA_OUT) {
                return frame.payload();
            }
            if (frame.channel() == Channel.EXIT) {
                throw new Ended(Protocol.exitStatus(frame));
            }
            if (!printed(frame)) {
                throw new ProtocolException("unexpected " + frame.channel() + " frame from the app during a delta transfer");
            }
        }
    }

    /** The app ended the command with this status in the middle of a delta exchange. */
    private static final class Ended extends IOException {
        final int status;

        Ended(int status) {
            super("the app ended the command");
            this.status = status;
        }
    }

    /**
     * Refuses the source as {@link #refuseUnfinishedTransactions()} does, else says the push is under
     * way: said here, not by the app when it starts, a refused source shows no swap.
     */
    private void refuseSourceOrAnnounce() throws Failure, ProtocolException {
        refuseUnfinishedTransactions();
        progress.println("Swapping database...");
    }

    /**
     * Refuses to push a file with unfinished transactions beside it. Checked once the app has
     * answered, not before connecting: until the app says which side it manages, the source may
     * be its live database, whose -wal is in use. Hanging up ends the push. "< new.sqlite3" is a
     * push from a file too.
     */
    private void refuseUnfinishedTransactions() throws Failure, ProtocolException {
        if (localSource == null) {
            throw new ProtocolException("the app asked for the bytes of a source it manages");
        }
        boolean fromStdin = pushesProcessStdin();
        String redirected = fromStdin ? LocalPaths.stdinFile() : null;
        if (fromStdin && redirected == null) {
            LocalPaths.refuseNamelessStdinBeingWritten();
            return;
        }
        LocalPaths.refuseUnfinishedTransactions(cwd, redirected != null ? redirected : options.source(),
                redirected != null ? redirected : localSource);
    }

    private static int count(String text) throws ProtocolException {
        try {
            int n = Integer.parseInt(text);
            if (n >= 0 && n <= PageHashes.MAX_PAGES) { // outside, the exchange's arithmetic would overflow
                return n;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new ProtocolException("malformed page count: " + text);
    }

    private static long size(String text) throws ProtocolException {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new ProtocolException("malformed snapshot size: " + text);
        }
    }

    /**
     * An {@code ERROR:} line from a remote app, or from the relay, says so: the user must know which
     * machine failed.
     */
    private String fromWhichSide(String text) {
        return remote != null && text.startsWith("ERROR: ") ? "ERROR: on " + remote.host() + ": " + text.substring(7) : text;
    }

    /** What an upload thread sends. */
    interface Upload {
        void send() throws IOException;
    }

    /**
     * Sends to the app on a thread of its own, so the app's replies are read meanwhile. Should
     * the local source fail, the connection is cut, which abandons the push on the app's side.
     */
    private Thread startUpload(Closeable connection, Upload upload) {
        Thread t = new Thread(() -> {
            try {
                upload.send();
            } catch (LocalReadError | Delta.ReadFailure e) {
                abandon(connection, e.getMessage() + "; nothing changed");
            } catch (IOException e) {
                // The app stopped reading: it has sent, or is sending, its reason and exit status.
            } catch (RuntimeException | Error e) {
                // A frame may be half sent: left open, the app would wait for its rest, and this client for the app.
                abandon(connection, "internal error while sending: " + e + "; nothing changed. Run the command again; if it "
                        + "fails so again, report it with this message");
            }
        }, "hotswap-upload");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Cuts the connection before the push is whole, which abandons it on the app's side. */
    private void abandon(Closeable connection, String failure) {
        localFailure = failure;
        if (connection instanceof Transport cut) {
            cut.kill();
        } else {
            AppSocket.closeQuietly(connection);
        }
    }

    private void uploadFile(Frames frames, Path source) throws IOException {
        FileChannel in;
        try {
            in = FileChannel.open(source, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new LocalReadError("cannot read " + source + ": " + Failures.describe(e));
        }
        try (in) {
            long size = in.size();
            // To a socket the kernel copies file to socket; a transport's pipe takes whole chunks from the heap.
            ByteBuffer chunk = remote == null ? null : ByteBuffer.allocate(Protocol.DATA_CHUNK_BYTES);
            try (Packer packer = packer()) {
                for (long pos = 0; pos < size; pos += Protocol.DATA_CHUNK_BYTES) {
                    int n = (int) Math.min(Protocol.DATA_CHUNK_BYTES, size - pos);
                    if (chunk == null) {
                        try {
                            frames.transferFrom(Channel.DATA_IN, in, pos, n);
                        } catch (java.io.EOFException e) {
                            // The frame under way cannot be completed: the app would wait for its rest, and this client for the app.
                            throw new LocalReadError("cannot read " + source + ": it shrank while being sent");
                        } catch (IOException e) {
                            // The kernel's copy does not say which side failed. A source that fails to read again (a disk
                            // error) leaves the frame unfinished, as above: that is a local failure. Else the app stopped reading.
                            readChunk(in, ByteBuffer.allocate(n), pos, n, source);
                            throw e;
                        }
                    } else {
                        readChunk(in, chunk, pos, n, source);
                        packer.send(frames, Channel.DATA_IN, Channel.DATA_IN_DEFLATED, chunk.array(), n);
                    }
                    progress.add(n);
                }
            }
        }
    }

    /** Deflates a whole push's chunks where that pays: over a remote link, unless --no-compress. */
    private Packer packer() {
        return new Packer(remote != null && options.compress(), Protocol.DATA_CHUNK_BYTES);
    }

    private static void readChunk(FileChannel in, ByteBuffer chunk, long pos, int n, Path source) throws IOException {
        chunk.clear().limit(n);
        try {
            if (!Reads.readFully(in, chunk, pos)) {
                throw new LocalReadError("cannot read " + source + ": it shrank while being sent");
            }
        } catch (LocalReadError e) {
            throw e;
        } catch (IOException e) {
            throw new LocalReadError("cannot read " + source + ": " + Failures.describe(e));
        }
        chunk.flip();
    }

    private void uploadStream(Frames frames, InputStream in) throws IOException {
        byte[] chunk = new byte[Protocol.DATA_CHUNK_BYTES];
        try (Packer packer = packer()) {
            while (true) {
                int n;
                try {
                    n = in.readNBytes(chunk, 0, chunk.length);
                } catch (IOException e) {
                    throw new LocalReadError("cannot read standard input: " + Failures.describe(e));
                }
                if (n == 0) {
                    return;
                }
                packer.send(frames, Channel.DATA_IN, Channel.DATA_IN_DEFLATED, chunk, n);
                progress.add(n);
            }
        }
    }

    /** Reading the local source failed, as opposed to sending it. */
    private static final class LocalReadError extends IOException {
        LocalReadError(String message) {
            super(message);
        }
    }
}
