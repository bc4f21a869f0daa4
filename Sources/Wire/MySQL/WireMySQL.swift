public enum WireMySQLModule {}
