namespace MemoryNet;

/// <summary>Bad input from the user (a file, a flag, a folder): reported as one line, exit code 2.</summary>
public class UserInputException(string message) : Exception(message);
