package hotswap.bench;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;

/**
 * A bare JVM that connects to a Unix socket and hangs up: the floor under any Java client of the
 * app's socket. The JDK seeds a SecureRandom the first time it opens a Unix domain socket, so this
 * costs well over a hello world before the client does anything of its own.
 */
public final class SocketHello {
    private SocketHello() {
    }

    public static void main(String[] args) throws Exception {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(args[0]));
        }
        System.out.println("hello");
    }
}
