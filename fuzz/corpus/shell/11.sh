ls \
 -l ;; | && ) ( "unterminated