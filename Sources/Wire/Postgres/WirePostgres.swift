public enum WirePostgresModule {}
