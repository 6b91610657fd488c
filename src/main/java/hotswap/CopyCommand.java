package hotswap;

import hotswap.wire.CopyRequest;
import hotswap.wire.Frames;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Decides whether a {@code cp} is a push or a pull: exactly one side must be a managed database. */
final class CopyCommand {
    private final Hotswap hotswap;
    private final CopyRequest request;
    private final Frames frames;
    private final Session session;

    CopyCommand(Hotswap hotswap, CopyRequest request, Frames frames, Session session) {
        this.hotswap = hotswap;
        this.request = request;
        this.frames = frames;
        this.session = session;
    }

    /**
     * Runs the push or pull.
     *
     * @return what to close once the client has its exit status
     */
    AutoCloseable run() throws CommandFailure {
        ManagedDatabase source = managed(request.source(), request.sourceName());
        ManagedDatabase destination = managed(request.destination(), request.destinationName());
        if (source == null && request.sourceName() != null) {
            // A source the client found no file for: a name never means a local file.
            throw new CommandFailure("cannot read " + request.sourceName() + ": no such file, and no managed database has "
                    + "that name; nothing changed. Managed: " + hotswap.describeDatabases());
        }
        if (source != null && source == destination) {
            throw new CommandFailure("SRC and DST are both " + shown(request.source(), request.sourceName(), source)
                    + ", the same managed database; nothing changed. To push, name a file as SRC; to pull, name a file "
                    + "or - as DST");
        }
        if (source != null && destination != null) {
            throw new CommandFailure("both " + shown(request.source(), request.sourceName(), source) + " and "
                    + shown(request.destination(), request.destinationName(), destination)
                    + " are managed databases; nothing changed. One side of cp must be a local file or -"
                    + (request.destinationName() != null ? " (a new file named " + request.destinationName() + " there is ./"
                    + request.destinationName() + ")" : ""));
        }
        if (destination != null) {
            refuseSameFile(request.source(), destination);
            return new Push(hotswap, destination, request, frames, session).run();
        } else if (source != null) {
            refuseSidecar(request.destination());
            refuseSameFile(request.destination(), source);
            return new Pull(source, request, frames).run();
        } else {
            throw new CommandFailure("neither " + request.source() + " nor " + request.destination()
                    + " is a managed database; nothing changed. Managed: " + hotswap.describeDatabases());
        }
    }

    /**
     * Refuses a copy between a managed database and another name of its file (a hard link, or a path
     * through a bind mount). The client refuses one it can see, but a database the client named as
     * the app names it has no path there: pushed onto itself, the database would lose the
     * transactions its -wal holds; a pull onto it would replace only a name.
     */
    private static void refuseSameFile(String path, ManagedDatabase db) throws CommandFailure {
        if (path == null || CopyRequest.STDIO.equals(path)) {
            return;
        }
        try {
            if (!Files.isSameFile(Path.of(path), db.path())) {
                return;
            }
        } catch (IOException | RuntimeException e) {
            return; // nothing there (a new file to pull to), or not resolvable here
        }
        throw new CommandFailure(CopyRequest.sameFileRefusal(path, db.path().toString()));
    }

    /**
     * A pull renames a database over its destination: over a managed database's -wal, -shm or
     * -journal, the app would take it for its journal, fail, and lose the transactions the old one held.
     */
    private void refuseSidecar(String path) throws CommandFailure {
        Path local;
        try {
            local = Hotswap.realPath(Path.of(path));
        } catch (RuntimeException e) {
            return; // not resolvable here: not a file beside a managed database either
        }
        for (ManagedDatabase db : hotswap.databases()) {
            for (String suffix : TempFiles.SIDECARS) {
                if (local.equals(db.path().resolveSibling(db.path().getFileName() + suffix))) {
                    throw new CommandFailure(path + " is a file SQLite keeps beside the managed database " + db.path()
                            + "; nothing changed. Pull to another file");
                }
            }
        }
    }

    /** The managed database a side names: by its path, which wins, else by the name the client sent, if any. */
    private ManagedDatabase managed(String path, String name) throws CommandFailure {
        if (CopyRequest.STDIO.equals(path)) {
            return null;
        }
        ManagedDatabase byPath = hotswap.findManaged(path);
        return byPath != null || name == null ? byPath : hotswap.named(name);
    }

    private static String shown(String path, String name, ManagedDatabase db) {
        return name != null && !db.path().toString().equals(path) ? name + " (" + db.path() + ")" : path;
    }
}
