import java.util.List;

import org.h2.mvstore.MVStore;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;

/**
 * Peerloop's local store: mongo-java-server on its H2 MVStore backend.
 *
 * <p>Usage: {@code java -cp 'libs/*:classes' PeerloopStore <host> <port> <data file>}
 *
 * <p>Two things differ from the library's own {@code H2MongoServer} main class:
 * <ul>
 *   <li>It reports MongoDB 5.0's wire version (13). The library's 5.0 level says 8, which
 *       current PyMongo (4.14 and later) refuses as too old.</li>
 *   <li>Every command that changed something is committed before its reply is sent. The
 *       MVStore otherwise commits about once a second, so a crash (kill -9) would lose
 *       writes the client had been told were done.</li>
 * </ul>
 */
public final class PeerloopStore {

    private static final MongoVersion MONGO_5_0_WIRE_13 = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(5, 0, 0);
        }

        @Override
        public int getWireVersion() {
            return 13;
        }
    };

    static final class CommittingH2Backend extends H2Backend {

        CommittingH2Backend(MVStore store) {
            super(store);
        }

        @Override
        public Document handleCommand(Channel channel, String databaseName, String command, Document query) {
            try {
                return super.handleCommand(channel, databaseName, command, query);
            } finally {
                // Also after a failed command: part of a bulk write may have been applied.
                if (getMvStore().hasUnsavedChanges()) {
                    commit();
                }
            }
        }
    }

    private PeerloopStore() {
    }

    public static void main(String[] args) {
        if (args.length != 3) {
            System.err.println("usage: PeerloopStore <host> <port> <data file>");
            System.exit(2);
        }
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        MVStore store = new MVStore.Builder().fileName(args[2]).compress().open();
        H2Backend backend = new CommittingH2Backend(store);
        backend.version(MONGO_5_0_WIRE_13);
        MongoServer server = new MongoServer(backend);
        // Closing the server closes the backend, which commits and closes the MVStore.
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow, "peerloop-store-shutdown"));
        server.bind(host, port);
        System.out.println("peerloop store listening on " + host + ":" + port + ", data in " + args[2]);
    }
}
