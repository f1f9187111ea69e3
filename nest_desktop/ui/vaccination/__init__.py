"""Children's vaccines: the file's tab and the list of doses due."""
